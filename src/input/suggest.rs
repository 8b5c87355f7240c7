//! "Did you mean ...?" for a mistyped word, as cargo and git do: the closest known word, when
//! it is close enough to be the likely intent.

/// The candidate closest to `word` by edit distance (a swap of two neighbouring letters counts
/// as one edit), if it is within a third of the word's length (at least one edit). Ties go to
/// the earlier candidate. Case is ignored.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let word = word.to_lowercase();
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|candidate| (distance(&word, &candidate.to_lowercase()), candidate))
        .filter(|(distance, candidate)| *distance <= limit && !candidate.is_empty())
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// `help` with `did you mean `x`? ` in front when some candidate is close to `word`.
pub fn with_suggestion<'a>(
    help: String,
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> String {
    match did_you_mean(word, candidates) {
        Some(close) => format!("did you mean `{close}`? {help}"),
        None => help,
    }
}

/// Optimal string alignment distance: insertions, deletions, substitutions and transpositions
/// of adjacent characters, each one edit.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // rows[i][j]: the distance between a[..i] and b[..j].
    let mut rows = vec![vec![0; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const TYPES: &[&str] = &["string", "text", "int", "bigint", "date", "datetime", "ref"];

    #[test]
    fn close_words_are_suggested() {
        for (typo, meant) in [
            ("strng", "string"),
            ("strnig", "string"),
            ("Stirng", "string"),
            ("txt", "text"),
            ("bigitn", "bigint"),
            ("dat", "date"),
            ("datetim", "datetime"),
        ] {
            assert_eq!(
                did_you_mean(typo, TYPES.iter().copied()),
                Some(meant),
                "{typo}"
            );
        }
    }

    #[test]
    fn far_words_are_not() {
        for word in ["colour", "x", "integerish", ""] {
            assert_eq!(did_you_mean(word, TYPES.iter().copied()), None, "{word}");
        }
    }

    #[test]
    fn the_help_gets_the_suggestion_in_front() {
        assert_eq!(
            with_suggestion("valid: a".into(), "strng", ["string"]),
            "did you mean `string`? valid: a"
        );
        assert_eq!(
            with_suggestion("valid: a".into(), "zzz", ["string"]),
            "valid: a"
        );
    }
}
