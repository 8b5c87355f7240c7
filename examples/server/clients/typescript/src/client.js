// A client of this server, typed by the paths openapi-typescript generates from the committed
// OpenAPI document (`npm run generate`): a route, parameter or field the document does not have
// is a type error under `npm run typecheck`, before any request is sent.
import createClient from "openapi-fetch";

/** @typedef {import("../generated/api.js").paths} paths */
/** @typedef {import("../generated/api.js").components["schemas"]} schemas */
/** @typedef {import("openapi-fetch").Client<paths>} ApiClient */

/**
 * A client for the server at `baseUrl` whose every request carries `token`.
 *
 * @param {{ baseUrl: string, token: string }} options
 * @returns {ApiClient}
 */
export function connect({ baseUrl, token }) {
  return createClient({
    baseUrl,
    headers: { Authorization: `Bearer ${token}` },
  });
}

/**
 * The server and token the suite runs against, from API_URL and API_TOKEN.
 *
 * @returns {{ baseUrl: string, token: string }}
 */
export function fromEnvironment() {
  const baseUrl = process.env.API_URL;
  const token = process.env.API_TOKEN;
  if (!baseUrl || !token) {
    throw new Error(
      "set API_URL to a running server (such as http://127.0.0.1:8080) and API_TOKEN to a " +
        "token with projects:read and projects:write (`server token --tenant acme --user " +
        "alice --permissions projects:read,projects:write`)",
    );
  }
  return { baseUrl, token };
}
