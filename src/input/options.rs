//! The options of `new module` and `change module` about the people behind a module's rows:
//! `--audit` (who created and last changed a row), `--owned` (only its creator changes it),
//! `--private` (only its creator sees it) and `--soft-delete` (deleting marks it, and it can be
//! restored). Recorded in the module's command, like its fields.

use serde::Serialize;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ModuleOptions {
    pub audit: bool,
    pub owned: bool,
    pub private: bool,
    pub soft_delete: bool,
}

/// Each option's flag, in the order the recorded command writes them.
const FLAGS: [&str; 4] = ["--audit", "--owned", "--private", "--soft-delete"];

impl ModuleOptions {
    /// `--private` implies `--owned`, which implies `--audit`: an owner is the creator.
    pub fn implied(self) -> Self {
        let owned = self.owned || self.private;
        Self {
            audit: self.audit || owned,
            owned,
            ..self
        }
    }

    fn flag_mut(&mut self, flag: &str) -> Option<&mut bool> {
        match flag {
            "--audit" => Some(&mut self.audit),
            "--owned" => Some(&mut self.owned),
            "--private" => Some(&mut self.private),
            "--soft-delete" => Some(&mut self.soft_delete),
            _ => None,
        }
    }

    /// Takes a word of a recorded command; false if it is not an option's flag.
    pub fn read(&mut self, word: &str) -> bool {
        self.flag_mut(word).map(|on| *on = true).is_some()
    }

    /// The flags of the options that are on, as the recorded command writes them.
    pub fn flags(self) -> Vec<&'static str> {
        let on = [self.audit, self.owned, self.private, self.soft_delete];
        FLAGS
            .iter()
            .zip(on)
            .filter(|(_, on)| *on)
            .map(|(f, _)| *f)
            .collect()
    }

    /// The options after `change module`'s `--X` (`on`) and `--no-X` (`off`) flags. Turning
    /// off what another option that stays on needs is refused, naming both.
    pub fn changed(self, on: &[&str], off: &[&str]) -> Result<Self, String> {
        let mut next = self;
        for flag in on {
            *next.flag_mut(flag).expect("a known flag") = true;
        }
        for flag in off {
            *next.flag_mut(flag).expect("a known flag") = false;
        }
        let implied = next.implied();
        if let Some(flag) = off.iter().find(|flag| implied.flags().contains(flag)) {
            let by = if *flag == "--owned" {
                "--private"
            } else {
                "--owned"
            };
            return Err(format!(
                "{by} needs {flag}: turn off {by} too (--no-{})",
                &by[2..]
            ));
        }
        Ok(implied)
    }

    /// The columns these options add to the table, which no field may be named.
    pub fn columns(self) -> Vec<&'static str> {
        let mut columns = Vec::new();
        if self.audit {
            columns.extend(["created_by", "updated_by"]);
        }
        if self.owned {
            columns.push("owner_id");
        }
        if self.soft_delete {
            columns.push("deleted_at");
            if self.audit {
                columns.push("deleted_by");
            }
        }
        columns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_implies_owned_implies_audit() {
        let private = ModuleOptions {
            private: true,
            ..ModuleOptions::default()
        };
        assert_eq!(
            private.implied().flags(),
            ["--audit", "--owned", "--private"]
        );
        let mut read = ModuleOptions::default();
        assert!(read.read("--soft-delete") && !read.read("--no-tests"));
        assert_eq!(read.flags(), ["--soft-delete"]);
    }

    #[test]
    fn changes_turn_options_on_and_off_but_never_break_an_implication() {
        let owned = ModuleOptions::default().changed(&["--owned"], &[]).unwrap();
        assert_eq!(owned.flags(), ["--audit", "--owned"]);
        let plain = owned.changed(&[], &["--owned"]).unwrap();
        assert_eq!(plain.flags(), ["--audit"]);
        let error = owned.changed(&[], &["--audit"]).unwrap_err();
        assert!(error.contains("--owned needs --audit"), "{error}");
        let private = owned.changed(&["--private"], &[]).unwrap();
        let error = private.changed(&[], &["--owned"]).unwrap_err();
        assert!(error.contains("--private needs --owned"), "{error}");
        let none = private
            .changed(&[], &["--private", "--owned", "--audit"])
            .unwrap();
        assert_eq!(none, ModuleOptions::default());
    }

    #[test]
    fn columns_follow_the_options() {
        let all = ModuleOptions {
            private: true,
            soft_delete: true,
            ..ModuleOptions::default()
        }
        .implied();
        assert_eq!(
            all.columns(),
            [
                "created_by",
                "updated_by",
                "owner_id",
                "deleted_at",
                "deleted_by"
            ]
        );
    }
}
