// The typed client against a running server (API_URL, API_TOKEN): what a frontend team does
// with the document, end to end. Each run names its projects after a fresh tag, so runs
// against one tenant do not see each other's rows.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { Ajv2020 } from "ajv/dist/2020.js";

import { connect, fromEnvironment } from "../src/client.js";

const api = connect(fromEnvironment());
const tag = randomUUID();

/** The committed document the client's types were generated from. */
const documentUrl = new URL("../../../openapi.json", import.meta.url);
const openapi = JSON.parse(readFileSync(documentUrl, "utf8"));

/**
 * Sends If-Match when the server gave the representation an ETag, so that the suite holds
 * whether or not the server checks preconditions.
 *
 * @param {Response} response
 * @returns {Record<string, string>}
 */
function ifMatch(response) {
  const etag = response.headers.get("etag");
  return etag ? { "If-Match": etag } : {};
}

/**
 * @param {string} name
 * @param {string | null} [description]
 */
async function create(name, description) {
  const { data, error, response } = await api.POST("/api/projects", {
    body: description === undefined ? { name } : { name, description },
  });
  assert.equal(response.status, 201, JSON.stringify(error));
  assert.ok(data, "a created project has a body");
  return { project: data, response };
}

test("a project is created, listed with a filter and a cursor, patched and deleted", async () => {
  const { project: apollo, response: created } = await create(`${tag} apollo`, "to the moon");
  assert.equal(apollo.name, `${tag} apollo`);
  assert.equal(apollo.description, "to the moon");
  assert.match(apollo.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.ok(!Number.isNaN(Date.parse(apollo.created_at)), apollo.created_at);
  assert.equal(created.headers.get("location"), `/api/projects/${apollo.id}`);
  await create(`${tag} gemini`);
  await create(`${tag} mercury`, null);
  await create(`another run's ${randomUUID()}`);

  // Page by page, in name order, through the cursor the previous page gave.
  /** @type {string[]} */
  const names = [];
  /** @type {string | undefined} */
  let after;
  let pages = 0;
  do {
    const { data, error } = await api.GET("/api/projects", {
      params: { query: { q: tag, sort: "name", limit: 2, count: true, after } },
    });
    assert.ok(data, JSON.stringify(error));
    assert.equal(data.limit, 2);
    assert.equal(data.total, 3);
    names.push(...data.items.map((item) => item.name));
    after = data.next ?? undefined;
    pages += 1;
  } while (after !== undefined && pages < 10);
  assert.equal(pages, 2);
  assert.deepEqual(names, [`${tag} apollo`, `${tag} gemini`, `${tag} mercury`]);

  // A filter whose name is not an identifier, as the document spells it.
  const described = await api.GET("/api/projects", {
    params: { query: { q: tag, "description[null]": false } },
  });
  assert.deepEqual(
    described.data?.items.map((item) => item.id),
    [apollo.id],
    JSON.stringify(described.error),
  );

  const fetched = await api.GET("/api/projects/{id}", {
    params: { path: { id: apollo.id } },
  });
  assert.deepEqual(fetched.data, apollo);

  const patched = await api.PATCH("/api/projects/{id}", {
    params: { path: { id: apollo.id } },
    headers: ifMatch(fetched.response),
    body: { name: `${tag} apollo 11`, description: null },
  });
  assert.equal(patched.response.status, 200, JSON.stringify(patched.error));
  assert.equal(patched.data?.name, `${tag} apollo 11`);
  assert.equal(patched.data?.description, null, "null clears an optional field");
  assert.equal(patched.data?.created_at, apollo.created_at);

  const deleted = await api.DELETE("/api/projects/{id}", {
    params: { path: { id: apollo.id } },
    headers: ifMatch(patched.response),
  });
  assert.equal(deleted.response.status, 204, JSON.stringify(deleted.error));

  const gone = await api.GET("/api/projects/{id}", { params: { path: { id: apollo.id } } });
  assert.equal(gone.response.status, 404);
  assert.equal(gone.error?.status, 404);
});

test("a 422 is a problem of the documented shape and content type", async () => {
  const { data, error, response } = await api.POST("/api/projects", { body: { name: "" } });
  assert.equal(response.status, 422);
  assert.equal(data, undefined);

  const documented = openapi.paths["/api/projects"].post.responses["422"].content;
  const contentType = response.headers.get("content-type") ?? "(none)";
  assert.ok(
    contentType in documented,
    `the server sent ${contentType}; the document lists ${Object.keys(documented)}`,
  );
  // The body against the document's own schema for it, with its references.
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addSchema({ components: openapi.components }, "openapi");
  const validate = ajv.compile({ $ref: "openapi" + documented[contentType].schema.$ref });
  assert.ok(validate(error), `${JSON.stringify(error)}: ${ajv.errorsText(validate.errors)}`);

  // The types say the same: `errors` lists what was wrong, field by field.
  assert.equal(error?.status, 422);
  assert.ok(
    error?.errors?.some((problem) => problem.field === "name"),
    JSON.stringify(error),
  );
});
