//! Questions on a terminal: fields one at a time (the question about a conflicting file is
//! `write::report::ask_conflict`).
//! Prompts go to stderr (dialoguer's default), so stdout stays the result.

use std::io::IsTerminal;

use dialoguer::{Confirm, Input, Select};

/// Whether a person can answer: both ends are a terminal.
pub fn is_interactive() -> bool {
    console::user_attended() && std::io::stdin().is_terminal()
}

const TYPE_MENU: &[(&str, &str)] = &[
    ("string", "short text with a maximum length"),
    ("text", "text of any length"),
    ("int", "32-bit integer"),
    ("bigint", "64-bit integer"),
    ("float", "64-bit floating point"),
    ("decimal", "exact decimal number (money)"),
    ("bool", "true or false"),
    ("uuid", "UUID"),
    ("date", "calendar date"),
    ("datetime", "point in time (UTC)"),
    ("json", "any JSON document"),
    ("enum", "one of a fixed list of values"),
    ("ref", "reference to a row of another module"),
];

/// Asks for fields until an empty name. `check` parses the words gathered so far (the new one
/// last) and says what is wrong; each answer is checked when it is given and asked again with
/// the reason, rather than failing questions later.
pub fn ask_fields(
    modules: &[String],
    check: &dyn Fn(&[String]) -> Result<(), String>,
) -> Result<Vec<String>, dialoguer::Error> {
    eprintln!("Add fields one at a time; leave the name empty to finish.");
    let mut words: Vec<String> = Vec::new();
    loop {
        let name: String = Input::new()
            .with_prompt("field name")
            .allow_empty(true)
            .validate_with(|answer: &String| check_name(answer, &words, check))
            .interact_text()?;
        let name = name.trim();
        if name.is_empty() {
            return Ok(words);
        }
        let word = ask_type(name, modules, &words, check)?;
        words.push(word);
        if let Err(problem) = check(&words) {
            eprintln!("{problem}");
            words.pop();
        }
    }
}

/// A field name as answered: a name only (the type is the next question), valid and new.
fn check_name(
    answer: &str,
    words: &[String],
    check: &dyn Fn(&[String]) -> Result<(), String>,
) -> Result<(), String> {
    let name = answer.trim();
    if name.is_empty() {
        return Ok(());
    }
    if let Some((bare, _)) = name.split_once(':') {
        return Err(format!(
            "type the name only (`{bare}`); the type is the next question"
        ));
    }
    // Any type will do to ask the parser about the name.
    with_word(words, format!("{name}:text"), check)
}

/// `check` on the words so far and `word`, its message without the word's own echo.
fn with_word(
    words: &[String],
    word: String,
    check: &dyn Fn(&[String]) -> Result<(), String>,
) -> Result<(), String> {
    let mut all = words.to_vec();
    all.push(word);
    check(&all)
}

/// The answer to "maximum length": a whole number PostgreSQL accepts.
fn check_length(answer: &str) -> Result<u32, String> {
    let max = crate::input::fields::MAX_STRING_LENGTH;
    match answer.trim().parse::<u32>() {
        Ok(length) if (1..=max).contains(&length) => Ok(length),
        _ => Err(format!(
            "a whole number of characters from 1 to {max}, for example {}",
            crate::input::fields::DEFAULT_STRING_MAX_LENGTH
        )),
    }
}

fn ask_type(
    name: &str,
    modules: &[String],
    words: &[String],
    check: &dyn Fn(&[String]) -> Result<(), String>,
) -> Result<String, dialoguer::Error> {
    let items: Vec<String> = TYPE_MENU
        .iter()
        .map(|(kind, what)| format!("{kind:<9} {what}"))
        .collect();
    let picked = Select::new()
        .with_prompt(format!("type of `{name}`"))
        .items(&items)
        .default(0)
        .interact()?;
    let kind = TYPE_MENU[picked].0;
    let mut word = match kind {
        "string" => {
            let length: String = Input::new()
                .with_prompt("maximum length")
                .default(crate::input::fields::DEFAULT_STRING_MAX_LENGTH.to_string())
                .validate_with(|answer: &String| check_length(answer).map(drop))
                .interact_text()?;
            let length =
                check_length(&length).unwrap_or(crate::input::fields::DEFAULT_STRING_MAX_LENGTH);
            format!("{name}:string({length})")
        }
        "enum" => {
            let values: String = Input::new()
                .with_prompt("values, separated by commas")
                .validate_with(|answer: &String| {
                    let word = format!("{name}:enum({})", answer.replace(' ', ""));
                    with_word(words, word, check)
                })
                .interact_text()?;
            format!("{name}:enum({})", values.replace(' ', ""))
        }
        "ref" => {
            let target = Select::new()
                .with_prompt("refers to")
                .items(modules)
                .default(0)
                .interact()?;
            format!("{name}:ref({})", modules[target])
        }
        kind => format!("{name}:{kind}"),
    };
    if Confirm::new()
        .with_prompt("optional (may be null)?")
        .default(false)
        .interact()?
    {
        word.push('?');
    }
    if !matches!(kind, "json" | "bool")
        && Confirm::new()
            .with_prompt("unique?")
            .default(false)
            .interact()?
    {
        word.push_str(":unique");
    }
    Ok(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `new module` passes: the parser's verdict on the words so far.
    fn parser(words: &[String]) -> Result<(), String> {
        let facts = crate::input::project::ProjectFacts {
            existing_modules: ["projects".to_owned()].into(),
            links: Default::default(),
            keys: Default::default(),
            modules_dir: "src/modules".into(),
            taken_names: Default::default(),
            inflections: Default::default(),
        };
        let request = crate::input::spec::SpecRequest {
            names: crate::input::names::NameRequest::new("tasks"),
            fields: words,
            with_tests: true,
        };
        crate::input::spec::ModuleSpec::parse(request, &facts)
            .map(drop)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_name_answer_is_checked_when_given() {
        let none: &[String] = &[];
        assert_eq!(check_name("title", none, &parser), Ok(()));
        assert_eq!(check_name("", none, &parser), Ok(()), "empty finishes");
        let typed = check_name("name:string", none, &parser).unwrap_err();
        assert!(typed.contains("type the name only (`name`)"), "{typed}");
        for bad in ["id", "tenant_id", "due-date", "self"] {
            assert!(check_name(bad, none, &parser).is_err(), "{bad}");
        }
        let taken = ["title:string".to_owned()];
        let again = check_name("title", &taken, &parser).unwrap_err();
        assert!(again.contains("title"), "{again}");
    }

    #[test]
    fn a_length_answer_is_a_number_postgres_accepts() {
        assert_eq!(check_length("120"), Ok(120));
        assert_eq!(check_length(" 80 "), Ok(80));
        for bad in ["abc", "0", "-5", "12.5", "99999999999"] {
            let message = check_length(bad).unwrap_err();
            assert!(
                message.starts_with("a whole number of characters from 1 to"),
                "{bad}"
            );
        }
    }
}
