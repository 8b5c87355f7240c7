//! The recorded command is one line of words, as a shell would split it: a word with a space
//! or a quote in it (a default such as `title:string=Hello world`) is single-quoted.

/// `word`, single-quoted where a shell would split or unquote it.
pub fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && !word
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '\'' | '"' | '\\'));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The words of `line`: split at white space outside quotes; `'...'` is literal, `\` escapes
/// the next character outside single quotes.
pub fn split(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => words.extend(word.take()),
            '\'' => {
                let word = word.get_or_insert_with(String::new);
                word.extend(chars.by_ref().take_while(|&c| c != '\''));
            }
            '\\' => word.get_or_insert_with(String::new).extend(chars.next()),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_words_split_back() {
        let words = [
            "tasks",
            "title:string=Hello world",
            "note:text=it's",
            "status:enum(a,b)=a",
            "path:text=C:\\dir",
            "empty:text=",
            "description:text?",
        ];
        let line: Vec<String> = words.iter().map(|w| quote(w)).collect();
        let line = line.join(" ");
        assert_eq!(
            line,
            r"tasks 'title:string=Hello world' 'note:text=it'\''s' status:enum(a,b)=a 'path:text=C:\dir' empty:text= description:text?"
        );
        assert_eq!(split(&line), words);
    }
}
