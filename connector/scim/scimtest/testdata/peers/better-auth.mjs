// A SCIM 2.0 service provider from Better Auth's @better-auth/scim plugin over Better Auth's
// in-memory database adapter. The plugin authenticates SCIM clients with static per-connection
// bearer credentials, so the server configures one connection with a random token: no Better
// Auth user, session or organization is involved.
//
//   node better-auth.mjs [port]   prints {"kind":"better-auth","url":"http://127.0.0.1:PORT/api/auth/scim/v2","token":"..."}

import { serve, newToken } from "./common.mjs";

const basePath = "/api/auth/scim/v2";

await serve("better-auth", async (port) => {
    // Imported here, not statically: loading Better Auth takes most of a second, and common.mjs
    // must be running first to exit when a test dies during startup.
    const { betterAuth } = await import("better-auth");
    const { memoryAdapter } = await import("better-auth/adapters/memory");
    const { toNodeHandler } = await import("better-auth/node");
    const { scim } = await import("@better-auth/scim");
    const token = newToken();
    const db = {};
    const auth = betterAuth({
        appName: "gatehouse-scim-test",
        baseURL: `http://127.0.0.1:${port}`,
        basePath: "/api/auth",
        secret: newToken(),
        database: memoryAdapter(db),
        telemetry: { enabled: false },
        logger: { level: "error" },
        // SCIM clients are not browsers: no Origin header, no rate limit (the tests inject
        // their own 429s with /__test/faults).
        rateLimit: { enabled: false },
        advanced: { disableCSRFCheck: true, disableOriginCheck: true },
        plugins: [scim({ connections: [{ id: "gatehouse", credentials: [{ id: "test", token }] }] })],
    });
    // The memory adapter needs every table to exist up front.
    const ctx = await auth.$context;
    for (const t of Object.values(ctx.tables)) db[t.modelName] ??= [];

    // seed goes through the plugin's own SCIM endpoints (every write is a transaction that
    // clones the in-memory database, so this is slow: fine for a few hundred resources).
    const seed = async ({ users, groups, membersPerGroup }) => {
        const call = async (method, path, body) => {
            const res = await auth.handler(new Request(`http://127.0.0.1:${port}${basePath}${path}`, {
                method,
                headers: { authorization: `Bearer ${token}`, "content-type": "application/scim+json" },
                body: JSON.stringify(body),
            }));
            const out = await res.json();
            if (res.status !== 201) throw Object.assign(new Error(`${method} ${path}: ${res.status} ${out.detail}`), { status: res.status });
            return out;
        };
        const ids = [];
        for (let i = 1; i <= users; i++) {
            const n = String(i).padStart(6, "0");
            const userName = `user${n}@example.com`;
            const u = await call("POST", "/Users", {
                schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
                externalId: `E${n}`, userName,
                name: { formatted: `User ${n}`, familyName: n, givenName: "User" },
                displayName: `User ${n}`,
                emails: [{ value: userName, type: "work", primary: true }],
                active: true,
            });
            ids.push(u.id);
        }
        for (let g = 1; g <= groups; g++) {
            const members = [];
            for (let k = 0; k < Math.min(membersPerGroup, ids.length); k++) members.push({ value: ids[((g - 1) * membersPerGroup + k) % ids.length] });
            await call("POST", "/Groups", {
                schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                displayName: `group${String(g).padStart(5, "0")}`,
                members,
            });
        }
        return { users, groups };
    };
    return { handler: toNodeHandler(auth), basePath, token, seed };
});
