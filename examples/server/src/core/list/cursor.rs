//! Signed cursors: `next` holds the sort keys of a page's last row, signed (HMAC-SHA256) over
//! the tenant, the module and the sort it was made for, so that a cursor from elsewhere or a
//! tampered one is refused rather than read.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use super::spec::{ListSpec, SortKey, Value};
use crate::core::tenant::TenantSlug;

/// The secret cursors are signed with, derived from the server's JWT secret so that there is
/// one secret to manage, but never the same key as the tokens'.
#[derive(Clone)]
pub struct CursorKey([u8; 32]);

impl CursorKey {
    pub fn derive(secret: &[u8]) -> CursorKey {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key");
        mac.update(b"list cursors");
        CursorKey(mac.finalize().into_bytes().into())
    }

    /// Signs and opens cursors of `tenant`'s lists.
    pub fn for_tenant<'a>(&'a self, tenant: &'a TenantSlug) -> Cursors<'a> {
        Cursors { key: self, tenant }
    }
}

/// Cursors of one tenant's lists. A cursor is `<payload>.<signature>`, both base64url: the
/// payload is the JSON array of the last row's sort keys, the signature an HMAC over the
/// tenant, the table, the sort and the payload.
pub struct Cursors<'a> {
    key: &'a CursorKey,
    tenant: &'a TenantSlug,
}

impl Cursors<'_> {
    fn mac(&self, spec: &ListSpec, sort: &[SortKey], payload: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key.0).expect("HMAC takes any key");
        let sort: Vec<String> = sort
            .iter()
            .map(|key| {
                format!(
                    "{}{}",
                    if key.descending { "-" } else { "" },
                    key.field.name
                )
            })
            .collect();
        for part in [
            self.tenant.as_str().as_bytes(),
            spec.table.as_bytes(),
            sort.join(",").as_bytes(),
            payload,
        ] {
            // Length-prefixed, so that no two different inputs read the same.
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac
    }

    pub(crate) fn seal<T: Serialize>(&self, spec: &ListSpec, sort: &[SortKey], row: &T) -> String {
        let row = serde_json::to_value(row).expect("rows serialise to JSON");
        let keys: Vec<&serde_json::Value> = sort.iter().map(|key| &row[key.field.name]).collect();
        let payload = serde_json::to_vec(&keys).expect("JSON values serialise");
        let signature = self.mac(spec, sort, &payload).finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(signature)
        )
    }

    /// The sort keys a cursor holds, if this tenant's list with this sort signed it.
    pub(crate) fn open(
        &self,
        spec: &ListSpec,
        sort: &[SortKey],
        cursor: &str,
    ) -> Option<Vec<Value>> {
        let (payload, signature) = cursor.split_once('.')?;
        let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        self.mac(spec, sort, &payload)
            .verify_slice(&signature)
            .ok()?;
        let values: Vec<serde_json::Value> = serde_json::from_slice(&payload).ok()?;
        if values.len() != sort.len() {
            return None;
        }
        sort.iter()
            .zip(&values)
            .map(|(key, value)| key.field.kind.parse_json(value))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use uuid::Uuid;

    use super::CursorKey;
    use crate::core::error::AppError;
    use crate::core::json;
    use crate::core::list::fixture::{SPEC, error_fields, key, parse, tenant};
    use crate::core::list::{ListQuery, ListSpec};

    fn next_cursor(query: &ListQuery, row: serde_json::Value, tenant_name: &str) -> String {
        let key = key();
        let tenant = tenant(tenant_name);
        let rows = vec![row.clone(), row];
        let mut query_one = ListQuery {
            limit: 1,
            ..parse("").unwrap()
        };
        query_one.sort = query.sort.clone();
        query_one
            .page(rows, None, &key.for_tenant(&tenant))
            .next
            .unwrap()
    }

    #[test]
    fn cursors_are_bound_to_tenant_list_and_sort() {
        let row = serde_json::json!({
            // Both spellings: the cursor reads the one `core::json` picks.
            "id": Uuid::nil(), "created_at": "2024-03-10T10:30:00.123456Z",
            "createdAt": "2024-03-10T10:30:00.123456Z",
            "title": "a", "order": null,
        });
        let by_default = parse("").unwrap();
        let cursor = next_cursor(&by_default, row.clone(), "acme");
        let after = parse(&format!("after={cursor}")).unwrap();
        assert_eq!(
            after.select("s", "*").sql().as_str(),
            "SELECT * FROM s.tasks WHERE (created_at, id) > ($1, $2) ORDER BY created_at, id \
             LIMIT $3"
        );

        let elsewhere = next_cursor(&by_default, row.clone(), "other");
        assert_eq!(error_fields(&format!("after={elsewhere}")), ["after"]);
        assert_eq!(
            error_fields(&format!(
                "after={cursor}&sort=-{}",
                json::pick("created_at", "createdAt")
            )),
            ["after"]
        );
        let (payload, signature) = cursor.split_once('.').unwrap();
        let forged = URL_SAFE_NO_PAD
            .encode(br#"["2000-01-01T00:00:00Z","00000000-0000-0000-0000-000000000000"]"#);
        for tampered in [
            format!("{forged}.{signature}"),
            format!("{payload}.{}", &signature[1..]),
            payload.to_owned(),
        ] {
            assert_eq!(error_fields(&format!("after={tampered}")), ["after"]);
        }

        // A nullable key in the sort: NULLs come last ascending.
        let by_order = parse("sort=order").unwrap();
        let cursor = next_cursor(&by_order, row, "acme");
        assert_eq!(
            parse(&format!("sort=order&after={cursor}"))
                .unwrap()
                .select("s", "*")
                .sql()
                .as_str(),
            "SELECT * FROM s.tasks WHERE ((FALSE) OR (\"order\" IS NULL AND id > $1)) \
             ORDER BY \"order\", id LIMIT $2"
        );
    }

    #[test]
    fn a_cursor_of_another_list_is_refused() {
        static NOTES: ListSpec = ListSpec {
            table: "notes",
            fields: &[],
        };
        let key = key();
        let acme = tenant("acme");
        let at = "2024-03-10T10:30:00Z";
        let row = serde_json::json!({"id": Uuid::nil(), "created_at": at, "createdAt": at});
        let cursor = next_cursor(&parse("").unwrap(), row, "acme");
        let pairs = vec![("after".to_owned(), cursor)];
        assert!(ListQuery::parse(&SPEC, &pairs, &key.for_tenant(&acme)).is_ok());
        match ListQuery::parse(&NOTES, &pairs, &key.for_tenant(&acme)) {
            Err(AppError::Validation(errors)) => assert_eq!(errors[0].field, "after"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn cursor_keys_differ_by_secret() {
        assert_ne!(CursorKey::derive(b"one").0, CursorKey::derive(b"two").0);
    }
}
