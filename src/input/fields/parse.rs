//! The FIELD word parser: spans kept for every part, so that an error points at the part
//! that is wrong, and loose spellings (`varchar`, `?` in odd places) normalised with a hint.

use std::fmt;
use std::ops::Range;

use heck::{ToPascalCase, ToSnakeCase};

use super::field::Field;
use super::types::{
    ARRAY_ELEMENTS, DEFAULT_SECRET_MAX_LENGTH, DEFAULT_STRING_MAX_LENGTH, EnumVariant, FieldType,
    MAX_SECRET_LENGTH, MAX_STRING_LENGTH, Modifier, OnDelete, SECRET_MIN_LENGTH, TYPE_SYNTAX,
};
use crate::input::idents;
use crate::input::names::ModuleNames;

/// Columns every module has already.
pub const BUILTIN_COLUMNS: &[&str] = &["id", "created_at", "updated_at"];

/// Names people reach for from other languages, with the type we call it.
const TYPE_ALIASES: &[(&str, &str)] = &[
    ("str", "string"),
    ("varchar", "string"),
    ("integer", "int"),
    ("i32", "int"),
    ("i64", "bigint"),
    ("f64", "float"),
    ("double", "float"),
    ("number", "float"),
    ("numeric", "decimal"),
    ("money", "decimal"),
    ("boolean", "bool"),
    ("timestamp", "datetime"),
    ("timestamptz", "datetime"),
    ("jsonb", "json"),
    ("references", "ref(<module>)"),
    ("fk", "ref(<module>)"),
];

/// A FIELD word that does not parse, with the part to point at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct FieldError {
    pub word: String,
    /// Byte range of the offending part of `word`.
    pub span: Range<usize>,
    pub message: String,
    pub help: Option<String>,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let column = self.word[..self.span.start].chars().count();
        let width = self.word[self.span.clone()].chars().count().max(1);
        writeln!(f, "field `{}`: {}", self.word, self.message)?;
        writeln!(f, "    {}", self.word)?;
        write!(f, "    {}{}", " ".repeat(column), "^".repeat(width))?;
        if let Some(help) = &self.help {
            write!(f, "\n  {help}")?;
        }
        Ok(())
    }
}

/// What parsing a field needs from outside the word itself.
pub struct FieldContext<'a> {
    /// The owning module's type name, which prefixes enum type names (`ProjectStatus`).
    pub type_name: &'a str,
    /// Turns a `ref(...)` argument into the target module's names, or says why it cannot.
    pub resolve_ref: &'a dyn Fn(&str) -> Result<ModuleNames, String>,
}

pub fn parse_field(word: &str, cx: &FieldContext) -> Result<Field, FieldError> {
    Parser { word }.field(cx)
}

struct Parser<'w> {
    word: &'w str,
}

impl Parser<'_> {
    fn error(&self, span: Range<usize>, message: impl Into<String>) -> FieldError {
        FieldError {
            word: self.word.to_string(),
            span,
            message: message.into(),
            help: None,
        }
    }

    fn error_help(
        &self,
        span: Range<usize>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> FieldError {
        FieldError {
            help: Some(help.into()),
            ..self.error(span, message)
        }
    }

    fn field(&self, cx: &FieldContext) -> Result<Field, FieldError> {
        // The default is everything after the first `=`: it may hold `:` (a time) or `=`.
        let (word, default) = match self.word.split_once('=') {
            Some((head, default)) => (head, Some(default)),
            None => (self.word, None),
        };
        let Some(colon) = word.find(':') else {
            return Err(self.error_help(
                0..word.len(),
                "missing type",
                format!("write `name:type`, e.g. `{word}:string`"),
            ));
        };
        let raw_name = &word[..colon];
        let mut segments = segments(word, colon + 1);
        let (type_span, type_text) = segments.remove(0);
        let optional = type_text.ends_with('?');
        let type_text = type_text.strip_suffix('?').unwrap_or(type_text);
        let type_span = type_span.start..type_span.start + type_text.len();

        let name = self.name(raw_name)?;
        let ty = self.ty(type_span.clone(), type_text, &name, cx)?;
        // `owner_id:ref(users)` means the same as `owner:ref(users)`, not `owner_id_id`.
        let name = match (&ty, name.strip_suffix("_id")) {
            (FieldType::Ref { .. }, Some(bare)) => bare.to_string(),
            _ => name,
        };
        let (mut unique, mut index, mut write_only) = (false, false, false);
        for (span, text) in segments {
            let (modifier, flag) = match text {
                "unique" => (Modifier::Unique, &mut unique),
                "index" => (Modifier::Index, &mut index),
                "writeonly" => (Modifier::WriteOnly, &mut write_only),
                "" => return Err(self.error(span, "empty modifier (stray `:`)")),
                "?" => {
                    return Err(self.error_help(
                        span,
                        "`?` goes right after the type",
                        "write `name:type?:unique`",
                    ));
                }
                other => {
                    return Err(self.error_help(
                        span,
                        format!("unknown modifier `{other}`"),
                        "modifiers are `:unique`, `:index` and `:writeonly`",
                    ));
                }
            };
            if *flag {
                return Err(self.error(span, format!("`:{text}` given twice")));
            }
            if let Some(why) = ty.refuses(modifier) {
                return Err(self.error(span, format!("`{}` cannot be `:{text}`: {why}", ty.kind())));
            }
            *flag = true;
        }
        if unique && index {
            return Err(self.error_help(
                0..word.len(),
                "`:unique` already creates an index",
                "drop `:index`",
            ));
        }
        if write_only && (unique || index) {
            return Err(self.error_help(
                0..word.len(),
                "a `:writeonly` field cannot be `:unique` or `:index`",
                "nothing filters or sorts on it, and a 409 on a duplicate would tell clients \
                 the values others sent; drop `:unique`/`:index`, or `:writeonly`",
            ));
        }
        let default = match default {
            None => None,
            Some(text) => {
                let span = word.len() + 1..self.word.len();
                if text.chars().any(char::is_control) {
                    return Err(self.error(span, "a default cannot hold control characters"));
                }
                if unique {
                    return Err(self.error_help(
                        span,
                        "a `:unique` field cannot have a default",
                        "every row left without a value would get the same one, which \
                         `:unique` forbids; drop the default",
                    ));
                }
                Some(
                    ty.check_default(text)
                        .map_err(|message| self.error(span, message))?,
                )
            }
        };
        let field = Field {
            name,
            ty,
            optional,
            unique,
            index,
            write_only,
            default,
        };
        self.check_column(&field, 0..colon)?;
        if let FieldType::Ref {
            target,
            on_delete: Some(OnDelete::SetNull),
        } = &field.ty
            && !field.optional
        {
            return Err(self.error_help(
                type_span,
                "`set_null` needs an optional ref: a required reference cannot be cleared",
                format!(
                    "make it optional (`{}:ref({},set_null)?`), or choose `restrict` or \
                     `cascade`",
                    field.name, target.module
                ),
            ));
        }
        Ok(field)
    }

    fn name(&self, raw: &str) -> Result<String, FieldError> {
        let span = 0..raw.len();
        if raw.is_empty() {
            return Err(self.error_help(span, "missing field name", "write `name:type`"));
        }
        if let Some(bare) = raw.strip_suffix('?') {
            return Err(self.error_help(
                span,
                "`?` goes after the type",
                format!("write `{bare}:<type>?`"),
            ));
        }
        // Names are accepted in any case (`dueDate`) and stored snake_case (`due_date`), the
        // way module names are; the printed summary shows the normalised form.
        if !idents::is_loose_identifier(raw) || raw.contains('-') {
            return Err(self.error_help(
                span,
                format!("`{raw}` is not a valid field name"),
                "start with a letter and use only letters, digits and `_`, e.g. `due_date`",
            ));
        }
        Ok(raw.to_snake_case())
    }

    fn ty(
        &self,
        span: Range<usize>,
        text: &str,
        name: &str,
        cx: &FieldContext,
    ) -> Result<FieldType, FieldError> {
        if text.is_empty() {
            return Err(self.error_help(
                span,
                "missing type",
                format!("valid types: {}", TYPE_SYNTAX.join(", ")),
            ));
        }
        if let Some(element) = text.strip_suffix("[]") {
            return self.array_type(span.start..span.end - 2, element, name, cx);
        }
        let (keyword, args) = match text.find('(') {
            None => (text, None),
            Some(open) => {
                if !text.ends_with(')') || text[open + 1..].contains(['(']) {
                    return Err(self.error_help(
                        span,
                        format!("malformed type `{text}`"),
                        "write `type` or `type(arguments)`, e.g. `string(80)` or `enum(a,b)`",
                    ));
                }
                let start = span.start + open + 1;
                (
                    &text[..open],
                    Some((start, &text[open + 1..text.len() - 1])),
                )
            }
        };
        let keyword_span = span.start..span.start + keyword.len();
        let keyword = keyword.to_ascii_lowercase();
        let no_args = |ty: FieldType| match args {
            None => Ok(ty),
            Some(_) => Err(self.error_help(
                span.clone(),
                format!("`{keyword}` takes no arguments"),
                "only `string(N)`, `secret(N)`, `enum(...)` and `ref(...)` do",
            )),
        };
        match keyword.as_str() {
            "string" => match args {
                None => Ok(FieldType::String {
                    max_length: DEFAULT_STRING_MAX_LENGTH,
                }),
                Some((start, arg)) => {
                    let arg_span = start..start + arg.len();
                    match arg.trim().parse::<u32>() {
                        Ok(n) if (1..=MAX_STRING_LENGTH).contains(&n) => {
                            Ok(FieldType::String { max_length: n })
                        }
                        _ => Err(self.error_help(
                            arg_span,
                            format!("`{arg}` is not a length"),
                            format!(
                                "write a whole number from 1 to {MAX_STRING_LENGTH}, e.g. \
                                 `string(80)`, or use `text` for unlimited length"
                            ),
                        )),
                    }
                }
            },
            "secret" => match args {
                None => Ok(FieldType::Secret {
                    max_length: DEFAULT_SECRET_MAX_LENGTH,
                }),
                Some((start, arg)) => match arg.trim().parse::<u32>() {
                    Ok(n) if (SECRET_MIN_LENGTH..=MAX_SECRET_LENGTH).contains(&n) => {
                        Ok(FieldType::Secret { max_length: n })
                    }
                    _ => Err(self.error_help(
                        start..start + arg.len(),
                        format!("`{arg}` is not a secret's maximum length"),
                        format!(
                            "write a whole number from {SECRET_MIN_LENGTH} (the fewest \
                             characters a secret takes) to {MAX_SECRET_LENGTH}, e.g. \
                             `secret(64)`"
                        ),
                    )),
                },
            },
            "text" => no_args(FieldType::Text),
            "int" => no_args(FieldType::Int),
            "bigint" => no_args(FieldType::BigInt),
            "float" => no_args(FieldType::Float),
            "decimal" => no_args(FieldType::Decimal),
            "bool" => no_args(FieldType::Bool),
            "uuid" => no_args(FieldType::Uuid),
            "date" => no_args(FieldType::Date),
            "datetime" => no_args(FieldType::DateTime),
            "json" => no_args(FieldType::Json),
            "enum" => match args {
                None => Err(self.error_help(
                    span,
                    "`enum` needs its values",
                    format!("write e.g. `{name}:enum(draft,active,archived)`"),
                )),
                Some((_, arg)) if arg.trim().is_empty() => Err(self.error_help(
                    span,
                    "`enum` needs its values",
                    format!("write e.g. `{name}:enum(draft,active,archived)`"),
                )),
                Some((start, arg)) => self.enum_type(start, arg, name, cx),
            },
            "ref" => match args {
                None | Some((_, "")) => Err(self.error_help(
                    span,
                    "`ref` needs the module it points to",
                    format!("write e.g. `{name}:ref(users)`"),
                )),
                Some((start, arg)) => self.ref_type(start, arg, name, cx),
            },
            unknown => {
                let mut help = format!("valid types: {}", TYPE_SYNTAX.join(", "));
                if let Some((_, ours)) = TYPE_ALIASES.iter().find(|(alias, _)| *alias == unknown) {
                    help = format!("did you mean `{ours}`? {help}");
                } else {
                    let keywords = TYPE_SYNTAX.iter().map(|t| t.split('(').next().unwrap_or(t));
                    help = crate::input::suggest::with_suggestion(help, unknown, keywords);
                }
                Err(self.error_help(keyword_span, format!("unknown type `{unknown}`"), help))
            }
        }
    }

    /// `<element>[]`: an array of one of [`ARRAY_ELEMENTS`].
    fn array_type(
        &self,
        span: Range<usize>,
        element: &str,
        name: &str,
        cx: &FieldContext,
    ) -> Result<FieldType, FieldError> {
        let keyword = element.split('(').next().unwrap_or(element);
        let keyword = keyword.to_ascii_lowercase();
        let refused = match keyword.as_str() {
            _ if element.ends_with("[]") => Some("arrays of arrays are not supported"),
            "json" => Some("a `json` field holds any document, lists included"),
            "enum" => Some("write the values as `string(N)[]`, or use a link between modules"),
            "ref" => Some("several references are a link: see `scaffold new link`"),
            "secret" => Some("a secret is one value, stored as one hash"),
            _ => None,
        };
        if let Some(why) = refused {
            return Err(self.error_help(
                span,
                format!("`{keyword}` cannot be an array element: {why}"),
                format!("array elements are {}", ARRAY_ELEMENTS.join(", ")),
            ));
        }
        let element = self.ty(span, element, name, cx)?;
        Ok(FieldType::Array(Box::new(element)))
    }

    /// `ref(<module>)` or `ref(<module>,<rule>)`.
    fn ref_type(
        &self,
        start: usize,
        arguments: &str,
        name: &str,
        cx: &FieldContext,
    ) -> Result<FieldType, FieldError> {
        let mut args = segments_by(arguments, start, ',').into_iter();
        let (module_span, module) = args.next().expect("split yields a first piece");
        let target = (cx.resolve_ref)(module.trim()).map_err(|m| self.error(module_span, m))?;
        let rules: Vec<&str> = OnDelete::ALL.iter().map(|rule| rule.word()).collect();
        let help = format!(
            "what deleting the {} does: `{}` (the default: a 409 while rows refer to it; \
             clearing the reference instead for an optional ref)",
            target.human_singular,
            rules.join("`, `"),
        );
        let on_delete = match args.next() {
            None => None,
            Some((span, rule)) => {
                let rule = rule.trim().to_ascii_lowercase().replace('-', "_");
                match OnDelete::ALL.into_iter().find(|r| r.word() == rule) {
                    Some(rule) => Some(rule),
                    None => {
                        return Err(self.error_help(
                            span,
                            format!("unknown delete rule `{rule}`"),
                            crate::input::suggest::with_suggestion(
                                help,
                                &rule,
                                rules.iter().copied(),
                            ),
                        ));
                    }
                }
            }
        };
        if let Some((span, _)) = args.next() {
            return Err(self.error_help(
                span,
                "`ref` takes a module and at most one delete rule",
                format!("write e.g. `{name}:ref({},cascade)`", target.module),
            ));
        }
        Ok(FieldType::Ref { target, on_delete })
    }

    fn enum_type(
        &self,
        start: usize,
        list: &str,
        name: &str,
        cx: &FieldContext,
    ) -> Result<FieldType, FieldError> {
        let mut variants: Vec<EnumVariant> = Vec::new();
        for (span, raw) in segments_by(list, start, ',') {
            let value = raw.trim();
            if value.is_empty() {
                return Err(self.error_help(
                    span,
                    "empty enum value",
                    format!("write e.g. `{name}:enum(draft,active)`"),
                ));
            }
            if !idents::is_loose_identifier(value) || value.contains('-') {
                return Err(self.error_help(
                    span,
                    format!("`{value}` is not a valid enum value"),
                    "start with a letter and use only letters, digits and `_`",
                ));
            }
            let variant = EnumVariant {
                name: value.to_snake_case(),
                rust: value.to_pascal_case(),
            };
            if variant.rust == "Self" {
                return Err(self.error(span, "`self` cannot be an enum value in Rust"));
            }
            if variants
                .iter()
                .any(|v| v.name == variant.name || v.rust == variant.rust)
            {
                return Err(self.error(span, format!("enum value `{value}` given twice")));
            }
            variants.push(variant);
        }
        // The module's own types are `<Type>Page` and `<Type>Response`; an enum named the
        // same would not compile.
        if ["page", "response"].contains(&name) {
            return Err(self.error_help(
                0..name.len(),
                format!("an enum field cannot be called `{name}`"),
                format!(
                    "its type would clash with `{}{}`; choose another name",
                    cx.type_name,
                    name.to_pascal_case()
                ),
            ));
        }
        Ok(FieldType::Enum {
            rust_type: format!("{}{}", cx.type_name, name.to_pascal_case()),
            variants,
        })
    }

    fn check_column(&self, field: &Field, span: Range<usize>) -> Result<(), FieldError> {
        let column = field.column();
        for word in [&field.name, &column] {
            if BUILTIN_COLUMNS.contains(&word.as_str()) {
                return Err(self.error_help(
                    span,
                    format!("`{word}` clashes with the `{word}` column every module has"),
                    "choose another name",
                ));
            }
            if word
                .split('_')
                .any(|part| part == "tenant" || part == "tenants")
            {
                return Err(self.error_help(
                    span,
                    format!("`{word}` refers to the tenant"),
                    "the tenant never comes from the client: every row lives in the caller's \
                     tenant schema, chosen from their token; drop this field",
                ));
            }
            if let Some(problem) = idents::field_name_problem(word) {
                return Err(self.error_help(span, problem, "choose another field name"));
            }
        }
        Ok(())
    }
}

/// `word[from..]` split at `:`, with each piece's byte range in `word`.
fn segments(word: &str, from: usize) -> Vec<(Range<usize>, &str)> {
    segments_by(&word[from..], from, ':')
}

fn segments_by(text: &str, offset: usize, separator: char) -> Vec<(Range<usize>, &str)> {
    let mut start = offset;
    text.split(separator)
        .map(|piece| {
            let span = start..start + piece.len();
            start = span.end + separator.len_utf8();
            (span, piece)
        })
        .collect()
}
