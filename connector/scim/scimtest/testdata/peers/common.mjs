// Shared plumbing of the SCIM test peers: the loopback HTTP server, bearer-token checks, the
// test-control endpoints under /__test/ (fault injection, request log, seeding), the ready
// line on stdout and a clean exit. Each peer supplies only its SCIM request handler.

import http from "node:http";
import { randomBytes, timingSafeEqual } from "node:crypto";

// Exit on SIGTERM/SIGINT, and when stdin closes if SCIMTEST_WATCH_STDIN=1: the Go harness
// keeps our stdin open, so when the test process dies (however it dies) its end of the pipe
// closes and we must not outlive it. This runs when the module is first imported, so peers
// import it before their heavy dependencies and a test killed during startup leaves no orphan.
let stopHook = () => {};
const stop = () => {
    stopHook();
    process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
if (process.env.SCIMTEST_WATCH_STDIN === "1") {
    process.stdin.on("end", stop);
    process.stdin.on("error", stop);
    process.stdin.resume();
}

const scimErrorSchema = "urn:ietf:params:scim:api:messages:2.0:Error";
const maxLogEntries = 200000;

/** A random bearer token: 32 bytes, base64url. */
export function newToken() {
    return randomBytes(32).toString("base64url");
}

/** Whether the request carries "Authorization: Bearer <token>" (compared in constant time). */
export function hasToken(req, token) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "");
    if (!m) return false;
    const got = Buffer.from(m[1]);
    const want = Buffer.from(token);
    return got.length === want.length && timingSafeEqual(got, want);
}

/** Writes a SCIM error response (RFC 7644 §3.12). */
export function sendSCIMError(res, status, detail, scimType, headers = {}) {
    const body = { schemas: [scimErrorSchema], status: String(status), detail };
    if (scimType) body.scimType = scimType;
    res.writeHead(status, { "Content-Type": "application/scim+json", ...headers });
    res.end(JSON.stringify(body));
}

function sendJSON(res, status, body) {
    res.writeHead(status, { "Content-Type": "application/json" });
    res.end(JSON.stringify(body));
}

async function readJSON(req) {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const text = Buffer.concat(chunks).toString("utf8");
    return text.trim() === "" ? {} : JSON.parse(text);
}

/** The port from argv[2] or $PORT; 0 (any free port) when neither is set. */
export function portFromArgs() {
    const raw = process.argv[2] ?? process.env.PORT ?? "0";
    const port = Number(raw);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
        console.error(`invalid port ${JSON.stringify(raw)}`);
        process.exit(2);
    }
    return port;
}

/**
 * Starts a peer. setup(port) runs once the port is bound and returns
 * {handler(req, res), basePath, token, seed?(opts)}: handler serves every request that is not
 * a test-control request; basePath is the SCIM base path (no trailing slash).
 */
export async function serve(name, setup) {
    const server = http.createServer();
    stopHook = () => {
        server.close();
        server.closeAllConnections();
    };
    server.keepAliveTimeout = 5000;
    await new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(portFromArgs(), "127.0.0.1", resolve);
    });
    const { port } = server.address();
    const peer = await setup(port);
    const { handler, basePath, token } = peer;

    // faults: the next `count` SCIM requests answer `status` (test-controlled).
    let fault = { status: 0, count: 0, retryAfter: 0 };
    let log = [];

    const control = async (req, res, path) => {
        if (!hasToken(req, token)) return sendSCIMError(res, 401, "missing or invalid bearer token");
        try {
            if (path === "/__test/faults" && req.method === "POST") {
                const b = await readJSON(req);
                const status = Number(b.status), count = Number(b.count ?? 1), retryAfter = Number(b.retry_after ?? 0);
                if (!Number.isInteger(status) || status < 100 || status > 599 || !Number.isInteger(count) || count < 0 || !(retryAfter >= 0))
                    return sendJSON(res, 400, { error: "want {status:100..599, count>=0, retry_after>=0}" });
                fault = { status, count, retryAfter };
                return sendJSON(res, 200, { status, count, retry_after: retryAfter });
            }
            if (path === "/__test/requests" && req.method === "GET") return sendJSON(res, 200, log);
            if (path === "/__test/requests" && req.method === "DELETE") {
                log = [];
                res.writeHead(204);
                return res.end();
            }
            if (path === "/__test/seed" && req.method === "POST") {
                if (!peer.seed) return sendJSON(res, 501, { error: `${name} does not support seeding` });
                const b = await readJSON(req);
                const opts = { users: Number(b.users ?? 0), groups: Number(b.groups ?? 0), membersPerGroup: Number(b.members_per_group ?? 0) };
                if (![opts.users, opts.groups, opts.membersPerGroup].every(n => Number.isInteger(n) && n >= 0) || (opts.membersPerGroup > 0 && opts.users === 0))
                    return sendJSON(res, 400, { error: "want non-negative integers users, groups, members_per_group (members need users)" });
                const t0 = performance.now();
                const out = await peer.seed(opts);
                return sendJSON(res, 200, { ...out, ms: Math.round(performance.now() - t0) });
            }
            return sendJSON(res, 404, { error: "unknown test-control endpoint" });
        } catch (ex) {
            return sendJSON(res, ex instanceof SyntaxError ? 400 : (ex.status ?? 500), { error: ex.message });
        }
    };

    server.on("request", (req, res) => {
        const url = req.url ?? "/";
        const path = url.split("?", 1)[0];
        if (path.startsWith("/__test/")) return void control(req, res, path);
        if (path === basePath || path.startsWith(basePath + "/")) {
            // Log the SCIM request; the status is recorded when the headers go out, so the log
            // is complete by the time the client has the response.
            const entry = {
                method: req.method,
                path: url.slice(basePath.length) || "/",
                if_match: req.headers["if-match"] ?? "",
                auth: (req.headers.authorization ?? "").split(/\s+/, 1)[0],
                status: 0,
            };
            log.push(entry);
            if (log.length > maxLogEntries) log.splice(0, log.length - maxLogEntries);
            const writeHead = res.writeHead;
            res.writeHead = function (status, ...rest) {
                entry.status = status;
                return writeHead.call(this, status, ...rest);
            };
            if (fault.count > 0) {
                fault.count--;
                req.resume();
                const headers = fault.retryAfter > 0 ? { "Retry-After": String(Math.ceil(fault.retryAfter)) } : {};
                return sendSCIMError(res, fault.status, `fault injected by the test (${fault.count} left)`, undefined, headers);
            }
        }
        Promise.resolve(handler(req, res)).catch(ex => {
            console.error(ex);
            if (!res.headersSent) sendSCIMError(res, 500, "internal error");
            else res.destroy();
        });
    });

    process.stdout.write(JSON.stringify({ kind: name, url: `http://127.0.0.1:${port}${basePath}`, token }) + "\n");
}
