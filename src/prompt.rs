//! Questions on a terminal: fields one at a time, and what to do with a conflicting file.
//! Prompts go to stderr (dialoguer's default), so stdout stays the result.

use std::io::IsTerminal;

use dialoguer::{Confirm, Input, Select};

use crate::apply::{ApplyError, Change, Choice};
use crate::report;

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
/// last) and says what is wrong, so a bad answer is asked again rather than failing later.
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
            .interact_text()?;
        let name = name.trim();
        if name.is_empty() {
            return Ok(words);
        }
        let word = ask_type(name, modules)?;
        words.push(word);
        if let Err(problem) = check(&words) {
            eprintln!("{problem}");
            words.pop();
        }
    }
}

fn ask_type(name: &str, modules: &[String]) -> Result<String, dialoguer::Error> {
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
            let length: u32 = Input::new()
                .with_prompt("maximum length")
                .default(crate::fields::DEFAULT_STRING_MAX_LENGTH)
                .interact_text()?;
            format!("{name}:string({length})")
        }
        "enum" => {
            let values: String = Input::new()
                .with_prompt("values, separated by commas")
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

/// Overwrite, skip or abort for one conflicting file, showing the diff on request.
pub fn ask_conflict(change: &Change) -> Result<Choice, ApplyError> {
    let items = ["overwrite", "skip", "show diff", "abort"];
    loop {
        let picked = Select::new()
            .with_prompt(format!(
                "{} differs from the generated file",
                change.path.display()
            ))
            .items(items)
            .default(1)
            .interact()
            .map_err(|error| ApplyError::Prompt(error.to_string()))?;
        match items[picked] {
            "overwrite" => return Ok(Choice::Overwrite),
            "skip" => return Ok(Choice::Skip),
            "show diff" => eprint!("{}", report::diff(change)),
            _ => return Ok(Choice::Abort),
        }
    }
}
