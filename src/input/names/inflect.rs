//! English singular and plural of one lowercase word (a snake_case name's last part), from
//! tables of suffix rules.
//!
//! The tables are those of the `pluralizer` crate 0.6 (a port of the `pluralize` npm
//! package), which scaffold used before: the same irregular words, uncountable words and
//! rules, in the same order, give the same answers (`tests::same_answers_as_pluralizer` below
//! checks that word for word against `tests/fixtures/inflections.tsv`). Its rules were
//! regular expressions that took a third of a `new module` run to compile at start-up; these
//! are plain suffix comparisons and need no set-up at all.
//!
//! A rule matches a word that ends in one of its stems followed by one of its endings; the
//! ending is then replaced. The last rule of a table that matches wins, as in pluralizer.
//! Within a rule, the stem and ending that start earliest in the word win, then the first
//! listed, as a regular expression's alternatives would. In stems and endings, `[abc]` is one
//! of those characters, `[^abc]` any other, and a leading `^` is the start of the word.

/// `stem` + `ending` at the end of a word becomes `stem` + `append`.
struct Rule {
    stems: &'static [&'static str],
    endings: &'static [&'static str],
    append: &'static str,
}

/// Kept as they are: `$0` rules, and the uncountable patterns.
const fn keep(stems: &'static [&'static str]) -> Rule {
    Rule {
        stems,
        endings: &[""],
        append: "",
    }
}

const fn rule(
    stems: &'static [&'static str],
    endings: &'static [&'static str],
    append: &'static str,
) -> Rule {
    Rule {
        stems,
        endings,
        append,
    }
}

/// `(singular, plural)`. When a plural has several singulars, the last one listed is its
/// singular (`their` -> `her`).
const IRREGULAR: &[(&str, &str)] = &[
    // Pronouns.
    ("i", "we"),
    ("me", "us"),
    ("he", "they"),
    ("she", "they"),
    ("them", "them"),
    ("myself", "ourselves"),
    ("yourself", "yourselves"),
    ("itself", "themselves"),
    ("herself", "themselves"),
    ("himself", "themselves"),
    ("themself", "themselves"),
    ("is", "are"),
    ("was", "were"),
    ("has", "have"),
    ("this", "these"),
    ("that", "those"),
    ("my", "our"),
    ("its", "their"),
    ("his", "their"),
    ("her", "their"),
    // Ending in a consonant and `o`.
    ("echo", "echoes"),
    ("dingo", "dingoes"),
    ("volcano", "volcanoes"),
    ("tornado", "tornadoes"),
    ("torpedo", "torpedoes"),
    // Ending in `us`.
    ("genus", "genera"),
    ("viscus", "viscera"),
    // Ending in `ma`.
    ("stigma", "stigmata"),
    ("stoma", "stomata"),
    ("dogma", "dogmata"),
    ("lemma", "lemmata"),
    ("schema", "schemata"),
    ("anathema", "anathemata"),
    // Others.
    ("ox", "oxen"),
    ("axe", "axes"),
    ("die", "dice"),
    ("yes", "yeses"),
    ("foot", "feet"),
    ("eave", "eaves"),
    ("goose", "geese"),
    ("tooth", "teeth"),
    ("quiz", "quizzes"),
    ("human", "humans"),
    ("proof", "proofs"),
    ("carve", "carves"),
    ("valve", "valves"),
    ("looey", "looies"),
    ("thief", "thieves"),
    ("groove", "grooves"),
    ("pickaxe", "pickaxes"),
    ("passerby", "passersby"),
    ("canvas", "canvases"),
];

/// Words with one form for both numbers.
const UNCOUNTABLE: &[&str] = &[
    "adulthood",
    "advice",
    "agenda",
    "aid",
    "aircraft",
    "alcohol",
    "ammo",
    "analytics",
    "anime",
    "athletics",
    "audio",
    "bison",
    "blood",
    "bream",
    "buffalo",
    "butter",
    "carp",
    "cash",
    "chassis",
    "chess",
    "clothing",
    "cod",
    "commerce",
    "cooperation",
    "corps",
    "debris",
    "diabetes",
    "digestion",
    "elk",
    "energy",
    "equipment",
    "excretion",
    "expertise",
    "firmware",
    "flounder",
    "fun",
    "gallows",
    "garbage",
    "graffiti",
    "hardware",
    "headquarters",
    "health",
    "herpes",
    "highjinks",
    "homework",
    "housework",
    "information",
    "jeans",
    "justice",
    "kudos",
    "labour",
    "literature",
    "machinery",
    "mackerel",
    "mail",
    "media",
    "mews",
    "moose",
    "music",
    "mud",
    "manga",
    "news",
    "only",
    "personnel",
    "pike",
    "plankton",
    "pliers",
    "police",
    "pollution",
    "premises",
    "rain",
    "research",
    "rice",
    "salmon",
    "scissors",
    "series",
    "sewage",
    "shambles",
    "shrimp",
    "software",
    "staff",
    "swine",
    "tennis",
    "traffic",
    "transportation",
    "trout",
    "tuna",
    "wealth",
    "welfare",
    "whiting",
    "wildebeest",
    "wildlife",
    "you",
];

/// Endings that mark an uncountable word; they take precedence over every rule.
const UNCOUNTABLE_ENDINGS: &[Rule] = &[
    keep(&["pok[eé]mon"]),
    keep(&["[^aeiou]ese"]), // chinese, japanese
    keep(&["deer"]),        // deer, reindeer
    keep(&["fish"]),        // fish, blowfish, angelfish
    keep(&["measles"]),
    keep(&["o[iu]s"]), // carnivorous
    keep(&["pox"]),    // chickenpox, smallpox
    keep(&["sheep"]),
];

/// Latin and Greek stems shared by both tables.
const US_I: &[&str] = &[
    "alumn", "syllab", "vir", "radi", "nucle", "fung", "cact", "stimul", "termin", "bacill", "foc",
    "uter", "loc", "strat",
];
const AE: &[&str] = &["alumn", "alg", "vertebr"];
const ON_A: &[&str] = &[
    "apheli",
    "hyperbat",
    "periheli",
    "asyndet",
    "noumen",
    "phenomen",
    "criteri",
    "organ",
    "prolegomen",
    "hedr",
    "automat",
];

/// After the rule for every other word (an `s`, unless the word ends in `s` or in a letter
/// outside ASCII), which `plural` applies when none of these matches.
const PLURAL_RULES: &[Rule] = &[
    keep(&["[^aeiou]ese"]),
    rule(&["ax", "test"], &["is"], "es"),
    rule(&["alias", "[^aou]us", "t[lm]as", "gas", "ris"], &[""], "es"),
    rule(&["e[mn]u"], &["s", ""], "s"),
    keep(&["[^l]ias", "[aeiou]las", "[ejzr]as", "[iu]am"]),
    rule(US_I, &["us", "i"], "i"),
    rule(AE, &["a", "ae"], "ae"),
    rule(&["seraph", "cherub"], &["im", ""], "im"),
    rule(&["her", "at", "gr"], &["o"], "oes"),
    rule(
        &[
            "agend",
            "addend",
            "millenni",
            "dat",
            "extrem",
            "bacteri",
            "desiderat",
            "strat",
            "candelabr",
            "errat",
            "ov",
            "symposi",
            "curricul",
            "automat",
            "quor",
        ],
        &["a", "um"],
        "a",
    ),
    rule(ON_A, &["a", "on"], "a"),
    rule(&[""], &["sis"], "ses"),
    // One rule in pluralizer; its two halves never match the same word.
    rule(&["kni", "wi", "li"], &["fe"], "ves"),
    rule(&["ar", "l", "ea", "eo", "oa", "hoo"], &["f"], "ves"),
    rule(&["[^aeiouy]", "qu"], &["y"], "ies"),
    rule(&["[^ch][ieo][ln]"], &["ey"], "ies"),
    rule(&["x", "ch", "ss", "sh", "zz"], &[""], "es"),
    rule(
        &["matr", "cod", "mur", "sil", "vert", "ind", "append"],
        &["ix", "ex"],
        "ices",
    ),
    rule(&["^titm", "^m", "^l"], &["ice", "ouse"], "ice"),
    rule(&["pe"], &["rson", "ople"], "ople"),
    rule(&["child"], &["ren", ""], "ren"),
    keep(&["eaux"]),
    rule(&[""], &["m[ae]n"], "men"),
    rule(&["^"], &["thou"], "you"),
];

/// After the rule for every other word (a final `s` dropped), which `singular` applies when
/// none of these matches.
const SINGULAR_RULES: &[Rule] = &[
    keep(&["ss"]),
    // pluralizer also has `[^\w]li`, which no word of letters and digits can match.
    rule(
        &[
            "wi", "kni", "afterli", "halfli", "highli", "lowli", "midli", "nonli", "nightli", "^li",
        ],
        &["ves"],
        "fe",
    ),
    rule(&["ar", "wol", "[ae]l", "[eo][ao]"], &["ves"], "f"),
    rule(&[""], &["ies"], "y"),
    rule(
        &[
            "dg", "ss", "ois", "lk", "ok", "wn", "mb", "th", "ch", "ec", "oal", "is", "ck", "ix",
            "sser", "ts", "wb",
        ],
        &["ies"],
        "ie",
    ),
    rule(
        &[
            "^l", "^neckt", "^crosst", "^hogt", "^aunt", "^t", "^coll", "^faer", "^food", "^gen",
            "^goon", "^group", "^hipp", "^junk", "^vegg", "^porkp", "^p", "^charl", "^calor",
            "^cut",
        ],
        &["ies"],
        "ie",
    ),
    rule(&["^mon", "^smil"], &["ies"], "ey"),
    rule(&["^titm", "^m", "^l"], &["ice"], "ouse"),
    rule(&["seraph", "cherub"], &["im"], ""),
    rule(
        &[
            "x",
            "ch",
            "ss",
            "sh",
            "zz",
            "tto",
            "go",
            "cho",
            "alias",
            "[^aou]us",
            "t[lm]as",
            "gas",
            "hero",
            "ato",
            "gro",
            "[aeiou]ris",
        ],
        &["es", ""],
        "",
    ),
    rule(
        &[
            "analy", "diagno", "parenthe", "progno", "synop", "the", "empha", "cri", "ne",
        ],
        &["sis", "ses"],
        "sis",
    ),
    rule(&["movie", "twelve", "abuse", "e[mn]u"], &["s"], ""),
    rule(&["test"], &["is", "es"], "is"),
    rule(US_I, &["us", "i"], "us"),
    rule(
        &[
            "agend",
            "addend",
            "millenni",
            "dat",
            "extrem",
            "bacteri",
            "desiderat",
            "strat",
            "candelabr",
            "errat",
            "ov",
            "symposi",
            "curricul",
            "quor",
        ],
        &["a"],
        "um",
    ),
    rule(ON_A, &["a"], "on"),
    rule(AE, &["ae"], "a"),
    rule(&["cod", "mur", "sil", "vert", "ind"], &["ices"], "ex"),
    rule(&["matr", "append"], &["ices"], "ix"),
    rule(&["pe"], &["rson", "ople"], "rson"),
    rule(&["child"], &["ren"], ""),
    rule(&["eau"], &["x", ""], ""),
    rule(&[""], &["men"], "man"),
];

/// The plural of a lowercase word: `category` -> `categories`. A plural stays as it is.
pub fn plural(word: &str) -> String {
    if IRREGULAR.iter().any(|&(_, plural)| plural == word) {
        return word.to_string();
    }
    if let Some(&(_, plural)) = IRREGULAR.iter().find(|&&(singular, _)| singular == word) {
        return plural.to_string();
    }
    inflect(word, PLURAL_RULES).unwrap_or_else(|| {
        if word.ends_with('s') || word.chars().next_back().is_some_and(|c| !c.is_ascii()) {
            word.to_string()
        } else {
            format!("{word}s")
        }
    })
}

/// The singular of a lowercase word: `categories` -> `category`. A singular stays as it is.
pub fn singular(word: &str) -> String {
    if IRREGULAR.iter().any(|&(singular, _)| singular == word) {
        return word.to_string();
    }
    if let Some(&(singular, _)) = IRREGULAR.iter().rev().find(|&&(_, plural)| plural == word) {
        return singular.to_string();
    }
    inflect(word, SINGULAR_RULES).unwrap_or_else(|| match word.strip_suffix('s') {
        Some(stem) => stem.to_string(),
        None => word.to_string(),
    })
}

/// The word as the last matching rule (uncountable endings first) makes it; `None` when no
/// rule matches. Uncountable words come out as they went in.
fn inflect(word: &str, rules: &[Rule]) -> Option<String> {
    if word.is_empty() || UNCOUNTABLE.contains(&word) {
        return Some(word.to_string());
    }
    UNCOUNTABLE_ENDINGS
        .iter()
        .rev()
        .chain(rules.iter().rev())
        .find_map(|rule| apply(rule, word))
}

fn apply(rule: &Rule, word: &str) -> Option<String> {
    // (where the stem starts, where the ending starts) of the earliest match, first listed.
    let mut best: Option<(usize, usize)> = None;
    for stem in rule.stems {
        for ending in rule.endings {
            let Some(ending_at) = match_end(word, ending) else {
                continue;
            };
            let Some(stem_at) = match_end(&word[..ending_at], stem) else {
                continue;
            };
            if best.is_none_or(|(earliest, _)| stem_at < earliest) {
                best = Some((stem_at, ending_at));
            }
        }
    }
    best.map(|(_, ending_at)| format!("{}{}", &word[..ending_at], rule.append))
}

/// Where `pattern` starts when it matches the end of `text`, in bytes.
fn match_end(text: &str, mut pattern: &str) -> Option<usize> {
    let mut rest = text;
    loop {
        if pattern.is_empty() {
            return Some(rest.len());
        }
        if pattern == "^" {
            return rest.is_empty().then_some(0);
        }
        let c = rest.chars().next_back()?;
        let matched = if let Some(class) = pattern.strip_suffix(']') {
            let open = class.rfind('[').expect("every `]` closes a `[`");
            let members = &class[open + 1..];
            pattern = &class[..open];
            match members.strip_prefix('^') {
                Some(excluded) => !excluded.contains(c),
                None => members.contains(c),
            }
        } else {
            let last = pattern.chars().next_back().expect("not empty");
            pattern = &pattern[..pattern.len() - last.len_utf8()];
            last == c
        };
        if !matched {
            return None;
        }
        rest = &rest[..rest.len() - c.len_utf8()];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_word_ends() {
        assert_eq!(match_end("bus", "[^aou]us"), Some(0));
        assert_eq!(match_end("bonus", "[^aou]us"), Some(2));
        assert_eq!(match_end("famous", "[^aou]us"), None);
        assert_eq!(match_end("mouse", "^m"), None);
        assert_eq!(match_end("m", "^m"), Some(0));
        assert_eq!(match_end("pokémon", "pok[eé]mon"), Some(0));
        assert_eq!(match_end("x", ""), Some(1));
    }

    #[test]
    fn the_earliest_match_of_a_rule_wins() {
        // `e[mn]us` starts before `e[mn]u`: the `s` is kept, not doubled.
        assert_eq!(plural("emus"), "emus");
        assert_eq!(plural("emu"), "emus");
        // `^m` + `ice` is the whole word only.
        assert_eq!(singular("mice"), "mouse");
        assert_eq!(singular("slice"), "slice");
    }

    /// Word for word what pluralizer 0.6 answered (`tests/fixtures/inflections.tsv`: word,
    /// plural, singular): 4,000 words of an English word list (every kind of change it makes,
    /// then a random sample) and every stem, ending and irregular word of the tables above.
    #[test]
    fn same_answers_as_pluralizer() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/inflections.tsv"
        );
        let fixture = std::fs::read_to_string(path).unwrap();
        let mut wrong = Vec::new();
        for line in fixture.lines().filter(|line| !line.starts_with('#')) {
            let [word, plural_of, singular_of] = line.split('\t').collect::<Vec<_>>()[..] else {
                panic!("not `word<TAB>plural<TAB>singular`: {line:?}");
            };
            let got = (plural(word), singular(word));
            if got != (plural_of.to_string(), singular_of.to_string()) {
                wrong.push(format!(
                    "{word}: {got:?}, pluralizer said ({plural_of}, {singular_of})"
                ));
            }
        }
        assert!(fixture.lines().count() > 4000);
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }
}
