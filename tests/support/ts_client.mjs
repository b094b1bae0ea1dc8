// A third-party MCP client for the tests: the official TypeScript SDK lists a server's tools,
// calls one with the given arguments and once with none, then prints what it saw as one JSON
// line on stdout.
//
//   node ts_client.mjs <sdk> <url> <token> <tool> <arguments-json>
//
// <sdk> is "v1" (npm @modelcontextprotocol/sdk, the 2025-11-25 handshake) or "v2" (npm
// @modelcontextprotocol/client, pinned to 2026-07-28: no initialize, per-request _meta).
// The packages are resolved from NODE_PATH (tests/tools/install puts them there).
import { createRequire } from "node:module";
import path from "node:path";

const [sdk, url, token, tool, given] = process.argv.slice(2);
const root = process.env.NODE_PATH;
const load = (name) => import(createRequire(path.join(root, "x.js")).resolve(name));
const requestInit = token ? { headers: { Authorization: `Bearer ${token}` } } : undefined;

let client;
if (sdk === "v1") {
  const { Client } = await load("@modelcontextprotocol/sdk/client/index.js");
  const { StreamableHTTPClientTransport } = await load(
    "@modelcontextprotocol/sdk/client/streamableHttp.js",
  );
  client = new Client({ name: "capgen-tests-ts-v1", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit }));
} else {
  const { Client, StreamableHTTPClientTransport } = await load("@modelcontextprotocol/client");
  client = new Client(
    { name: "capgen-tests-ts-v2", version: "1.0.0" },
    { versionNegotiation: { mode: { pin: "2026-07-28" } } },
  );
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit }));
}
const version =
  client.getNegotiatedProtocolVersion?.() ?? client.transport?.protocolVersion ?? null;
const listed = await client.listTools();
const result = await client.callTool({ name: tool, arguments: JSON.parse(given) });
const invalid = await client.callTool({ name: tool, arguments: {} }); // a tool error
await client.close();
process.stdout.write(
  JSON.stringify({ protocolVersion: version, tools: listed.tools, result, invalid }) + "\n",
);
