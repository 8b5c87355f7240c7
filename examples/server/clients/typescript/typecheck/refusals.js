// Never run, only type-checked: `npm run typecheck` fails when a call the document does not
// allow stops being a type error, as it would if the generated types degraded to `any`.
import { connect } from "../src/client.js";

const api = connect({ baseUrl: "http://127.0.0.1:0", token: "unused" });

export function refused() {
  // @ts-expect-error -- no such route
  void api.GET("/api/no-such-route");
  // @ts-expect-error -- a project's name is required
  void api.POST("/api/projects", { body: { description: "unnamed" } });
  // @ts-expect-error -- limit is an integer
  void api.GET("/api/projects", { params: { query: { limit: "2" } } });
  // @ts-expect-error -- a name is a string
  void api.PATCH("/api/projects/{id}", { params: { path: { id: "x" } }, body: { name: 11 } });
  // @ts-expect-error -- the path's id is required
  void api.DELETE("/api/projects/{id}", {});
}

/** @param {import("../src/client.js").schemas["ProjectResponse"]} project */
export function fields(project) {
  // @ts-expect-error -- a project has no such field
  return project.colour;
}
