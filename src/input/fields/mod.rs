//! FIELD words (`name:type[?][:unique][:index][=DEFAULT]`) parsed into typed fields.
//!
//! Everything a template needs to know about a type lives on [`FieldType`] (in `types.rs`),
//! so adding a type is one match arm per method there, plus its list parsing in the server's
//! `core/list`; the templates ask the field what it can do and never test its kind.

mod field;
mod parse;
mod types;

pub use field::Field;
pub use parse::{BUILTIN_COLUMNS, FieldContext, FieldError, parse_field};
pub use types::{
    ARRAY_ELEMENTS, DEFAULT_STRING_MAX_LENGTH, EnumVariant, FieldType, MAX_ARRAY_ITEMS,
    MAX_STRING_LENGTH, OnDelete, TYPE_SYNTAX,
};

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::input::names::{Inflections, ModuleNames, NameRequest};

    fn resolve(target: &str) -> Result<ModuleNames, String> {
        let names = ModuleNames::derive(NameRequest::new(target), &Inflections::default())
            .map_err(|e| e.0)?;
        match names.module.as_str() {
            "users" | "projects" => Ok(names),
            other => Err(format!("no module `{other}`")),
        }
    }

    fn parse(word: &str) -> Result<Field, FieldError> {
        let cx = FieldContext {
            type_name: "Project",
            resolve_ref: &resolve,
        };
        parse_field(word, &cx)
    }

    #[test]
    fn canonical_syntax_parses_back_to_the_same_field() {
        for word in [
            "title:string",
            "code:string(12):unique",
            "body:text?",
            "rank:int:index",
            "views:bigint?",
            "score:float",
            "price:decimal",
            "done:bool",
            "external_id:uuid:unique",
            "due:date?",
            "starts_at:datetime:index",
            "meta:json?",
            "status:enum(draft,in_review,done)",
            "owner:ref(users)?",
            "project:ref(projects,cascade)",
            "owner:ref(users,restrict)?",
            "owner:ref(users,set_null)?",
            "password:secret",
            "pin:secret(12)?",
            "recovery_code:string?:writeonly",
            "born_on:date:writeonly=2024-01-15",
            "tags:string(40)[]:index",
            "scores:int[]?",
            "ids:uuid[]=[]",
            "sizes:bigint[]=[1,2]",
            "names:text[]=[a b,c]",
        ] {
            assert_eq!(parse(word).unwrap().syntax(), word);
        }
    }

    #[test]
    fn a_ref_chooses_its_delete_rule() {
        let rule = |word: &str| parse(word).unwrap().on_delete().map(OnDelete::sql);
        assert_eq!(rule("project:ref(projects)"), Some("RESTRICT"));
        assert_eq!(rule("project:ref(projects)?"), Some("SET NULL"));
        assert_eq!(rule("project:ref(Projects, Cascade)"), Some("CASCADE"));
        assert_eq!(rule("project:ref(projects,set-null)?"), Some("SET NULL"));
        assert_eq!(rule("project:ref(projects,restrict)?"), Some("RESTRICT"));
        assert_eq!(rule("title:string"), None);

        let error = parse("project:ref(projects,set_null)").unwrap_err();
        assert!(error.message.contains("needs an optional ref"), "{error}");
        let help = error.help.unwrap();
        assert!(help.contains("`project:ref(projects,set_null)?`"), "{help}");
        let error = parse("project:ref(projects,casade)").unwrap_err();
        assert_eq!(&error.word[error.span.clone()], "casade");
        assert!(
            error
                .help
                .as_deref()
                .unwrap()
                .starts_with("did you mean `cascade`?"),
            "{error}"
        );
        let error = parse("project:ref(projects,cascade,restrict)").unwrap_err();
        assert_eq!(&error.word[error.span.clone()], "restrict");
        assert!(error.message.contains("at most one delete rule"), "{error}");
    }

    #[test]
    fn secrets_and_writeonly_fields_are_never_listed() {
        let field = parse("password:secret").unwrap();
        assert_eq!(field.column(), "password_hash");
        assert_eq!(field.key(), "password");
        assert_eq!(field.rust_ident(), "password");
        assert!(field.is_write_only() && !field.write_only);
        assert_eq!(field.ty.filters(true), Vec::<&str>::new());
        assert!(!field.ty.sortable() && !field.ty.searchable());
        assert_eq!(
            (field.ty.min_length(), field.ty.max_length()),
            (Some(8), Some(128))
        );
        let field = parse("code:string?:writeonly").unwrap();
        assert_eq!(
            (field.column(), field.key()),
            ("code".into(), "code".into())
        );
        assert!(field.is_write_only());
        let field = parse("code:string").unwrap();
        assert!(!field.is_write_only());
    }

    #[test]
    fn an_array_default_is_the_elements_defaults_in_each_language() {
        let field = parse("tags:string(5)[]=[ab, it's]").unwrap();
        assert_eq!(field.syntax(), "tags:string(5)[]=[ab,it's]");
        assert_eq!(field.default_sql().unwrap(), "ARRAY['ab', 'it''s']::text[]");
        assert_eq!(field.default_json(), Some(json!(["ab", "it's"])));
        assert_eq!(
            field.default_rust().unwrap(),
            r#"vec!["ab".to_string(), "it's".to_string()]"#
        );
        let field = parse("ids:uuid[]?=[]").unwrap();
        assert_eq!(field.default_sql().unwrap(), "ARRAY[]::uuid[]");
        assert_eq!(field.default_json(), Some(json!([])));
        assert_eq!(field.default_rust().unwrap(), "Some(vec![])");
        for bad in [
            "tags:string(2)[]=[abc]",
            "tags:int[]=[1,,2]",
            "tags:int[]=1,2",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let many = vec!["1"; MAX_ARRAY_ITEMS as usize + 1].join(",");
        assert!(parse(&format!("n:int[]=[{many}]")).is_err());
    }

    #[test]
    fn an_array_changes_in_place_only_within_its_column_type() {
        let ty = |word: &str| parse(word).unwrap().ty;
        let short = ty("t:string(40)[]");
        assert_eq!(short.widening_to(&ty("t:string(80)[]")), Some(None));
        assert_eq!(short.widening_to(&ty("t:text[]")), Some(None));
        for other in ["t:int[]", "t:string", "t:uuid[]"] {
            assert_eq!(short.widening_to(&ty(other)), None, "{other}");
        }
        assert_eq!(ty("t:int[]").widening_to(&ty("t:bigint[]")), None);
        assert_eq!(ty("t:int").widening_to(&ty("t:int[]")), None);
    }

    #[test]
    fn loose_input_is_normalised() {
        let field = parse("dueDate:DATE").unwrap();
        assert_eq!(field.syntax(), "due_date:date");
        let field = parse("owner:ref(User)").unwrap();
        assert_eq!(
            (field.syntax(), field.column()),
            ("owner:ref(users)".into(), "owner_id".into())
        );
        let field = parse("state:enum(InReview, done)").unwrap();
        assert_eq!(field.syntax(), "state:enum(in_review,done)");
        assert_eq!(field.ty.rust_type(), "ProjectState");
    }

    #[test]
    fn errors_point_at_the_bad_part() {
        let error = parse("title:strng:unique").unwrap_err();
        assert_eq!(&error.word[error.span.clone()], "strng");
        let error = parse("status:enum(a,,b)").unwrap_err();
        assert_eq!(error.span, 14..14);
        let error = parse("title:strng?:unique").unwrap_err();
        assert_eq!(&error.word[error.span.clone()], "strng");
        let error = parse("code:string(0)?").unwrap_err();
        assert_eq!(&error.word[error.span.clone()], "0");
        let error = parse("tag:string:uniqe").unwrap_err();
        assert_eq!(&error.word[error.span.clone()], "uniqe");
        assert!(
            error
                .to_string()
                .contains("\n    tag:string:uniqe\n               ^^^^^\n")
        );
    }

    #[test]
    fn string_lengths_fit_the_request_body_limit() {
        assert!(parse("a:string(65535)").is_ok());
        let error = parse("a:string(65536)").unwrap_err().to_string();
        assert!(error.contains("from 1 to 65535"), "{error}");
    }

    #[test]
    fn samples_differ_and_fit() {
        let field = parse("code:string(1)").unwrap();
        assert_eq!(field.ty.samples(), [json!("a"), json!("b")]);
        assert_eq!(field.ty.invalid_sample(), Some(json!("xx")));
        let too_long = (
            Some("Limits count characters, not bytes."),
            "\"é\".repeat(2)".to_owned(),
        );
        assert!(field.ty.invalid_values(false).contains(&too_long));
        assert_eq!(
            field.ty.test_values(true),
            [
                "client.unique_string(\"alpha\", 1)",
                "client.unique_string(\"beta\", 1)"
            ]
        );
        let field = parse("state:enum(only)").unwrap();
        assert_eq!(field.ty.samples(), [json!("only"), json!("only")]);
    }

    #[test]
    fn types_refuse_the_modifiers_they_cannot_use() {
        for (word, why) in [
            ("done:bool:unique", "only two rows"),
            ("state:enum(a,b):unique", "one row per value"),
            ("doc:json:index", "no useful equality"),
            ("doc:json:unique", "no useful equality"),
        ] {
            let error = parse(word).unwrap_err();
            assert!(error.to_string().contains(why), "{word}: {error}");
        }
        for word in [
            "done:bool:index",
            "state:enum(a,b):index",
            "code:string:unique",
        ] {
            assert!(parse(word).is_ok(), "{word}");
        }
    }

    #[test]
    fn defaults_are_checked_at_the_edges_of_each_type() {
        let check = |ty: &FieldType, text: &str| ty.check_default(text);
        let short = FieldType::String { max_length: 3 };
        assert_eq!(check(&short, "abc"), Ok("abc".into()));
        assert_eq!(
            check(&short, "äöü"),
            Ok("äöü".into()),
            "characters, not bytes"
        );
        for bad in ["", "abcd"] {
            assert!(check(&short, bad).is_err(), "{bad:?}");
        }
        assert_eq!(check(&FieldType::Float, "0.5"), Ok("0.5".into()));
        for bad in ["inf", "NaN", "1e999", " 1"] {
            assert!(check(&FieldType::Float, bad).is_err(), "{bad:?}");
        }
        let digits28 = format!("{}.{}", "1".repeat(20), "2".repeat(8));
        for good in ["12.50", "-3", "0.1", digits28.as_str()] {
            assert_eq!(check(&FieldType::Decimal, good), Ok(good.into()));
        }
        let digits29 = format!("{}.{}", "1".repeat(20), "2".repeat(9));
        for bad in [".5", "5.", "-", "1.2.3", "1e3", "12a", digits29.as_str()] {
            assert!(check(&FieldType::Decimal, bad).is_err(), "{bad:?}");
        }
        let uuid = "3F2504E0-4F89-41D3-9A0C-0305E82C3301";
        assert_eq!(check(&FieldType::Uuid, uuid), Ok(uuid.to_lowercase()));
        for bad in [
            "3f2504e0",
            "3f2504e0-4f89-41d3-9a0c-0305e82c330z",
            "3f2504e0x4f89-41d3-9a0c-0305e82c3301",
        ] {
            assert!(check(&FieldType::Uuid, bad).is_err(), "{bad:?}");
        }
    }
}
