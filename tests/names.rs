//! How NAME becomes every spelling, for ordinary and unusual names.

use scaffold::input::names::{Inflections, ModuleNames, NameRequest};

fn table(inputs: &[&str], inflections: &Inflections) -> String {
    let mut out = String::new();
    for input in inputs {
        let line = match ModuleNames::derive(NameRequest::new(input), inflections) {
            Ok(n) => format!(
                "{} | {} | {} | {} | /api/{} | {} / {}",
                n.module,
                n.singular,
                n.type_name,
                n.plural_type,
                n.route,
                n.human_singular,
                n.human_plural
            ),
            Err(error) => format!("error: {error}"),
        };
        out.push_str(&format!("{input:<16} -> {line}\n"));
    }
    out
}

#[test]
fn derived_names() {
    let inputs = [
        "projects",
        "Project",
        "user-profiles",
        "UserProfile",
        "userProfiles",
        "USER_PROFILES",
        "api_keys",
        "APIKey",
        "HTTPRequests",
        "oauth2_clients",
        "line-item",
        "categories",
        "statuses",
        "addresses",
        "analyses",
        "indices",
        "matrices",
        "people",
        "person",
        "children",
        "mice",
        "wolves",
        "heroes",
        "quizzes",
        "buses",
        "companies",
        "taxes",
        "criteria",
        "cacti",
        "orders",
        "users",
    ];
    insta::assert_snapshot!(table(&inputs, &Inflections::default()));
}

#[test]
fn refused_names() {
    let inputs = [
        "news",
        "sheep",
        "series",
        "types",
        "selves",
        "crates",
        "supers",
        "states",
        "uuids",
        "results",
        "9lives",
        "_private",
        "../x",
        "a/b",
        ".hidden",
        "my module",
        "",
    ];
    insta::assert_snapshot!(table(&inputs, &Inflections::default()));
}

#[test]
fn project_inflections_apply_to_the_last_word() {
    let inflections = Inflections::new([("cactus", "cactuses"), ("news_item", "news")]).unwrap();
    let inputs = [
        "cactus",
        "cacti",
        "cactuses",
        "big_cactus",
        "news",
        "NewsItem",
    ];
    insta::assert_snapshot!(table(&inputs, &inflections));
}
