// A SCIM 2.0 service provider built from SCIMMY and SCIMMY Routers (Express 4) over an
// in-memory store. SCIMMY does the protocol (parsing, schema validation, filters, PATCH,
// list responses); this file supplies only the storage handlers SCIMMY asks for, plus ETags.
//
//   node scimmy.mjs [port]   prints {"kind":"scimmy","url":"http://127.0.0.1:PORT/scim/v2","token":"..."}

import { serve, newToken, hasToken, sendSCIMError } from "./common.mjs"; // first: see its exit handling
import express from "express";
import SCIMMY from "scimmy";
import SCIMMYRouters from "scimmy-routers";
import { randomUUID } from "node:crypto";

const basePath = "/scim/v2";
const defaultCount = 20; // SCIMMY's ListResponse default page size when count is absent

// The store: plain SCIM-shaped records without "schemas" or meta.resourceType/location,
// which SCIMMY adds on the way out. Names are unique case-insensitively, as userName
// (caseExact false, uniqueness server) requires; Group displayName is unique too.
const users = new Map();      // id → record
const userNames = new Map();  // lower(userName) → id
const groups = new Map();
const groupNames = new Map(); // lower(displayName) → id
let versionSeq = 0;
let seededUsers = 0, seededGroups = 0; // seed numbering continues across calls

function stamp(record, created) {
    const now = new Date().toISOString();
    record.meta = { created: created ?? now, lastModified: now, version: `W/"${++versionSeq}"` };
    return record;
}

// Turns a SCIMMY schema instance into a plain record, dropping what the server owns.
function plain(instance) {
    const r = JSON.parse(JSON.stringify(instance));
    delete r.schemas;
    delete r.meta;
    delete r.id;
    delete r.password; // never stored: this peer does not authenticate users
    return r;
}

const notFound = (id) => new SCIMMY.Types.Error(404, null, `Resource ${id} not found`);

// list implements filtering, sorting and paging for egress. SCIMMY would page a full list
// itself, but it builds an output schema for every matching resource first (180 µs each: 3.6 s
// per page of a 20,000-user list), so the handler returns only the page. SCIMMY's ListResponse
// then slices startIndex-1 resources off the front unless the arithmetic says the list is
// already offset, so the returned array is shaped to make that slice land on the page.
function list(resource, all, index, nameAttr) {
    let matched;
    const f = resource.filter;
    const only = f && f.length === 1 && Object.keys(f[0]).length === 1 ? Object.entries(f[0])[0] : null;
    if (only && Array.isArray(only[1]) && only[1].length === 2 && only[1][0].toLowerCase() === "eq" && typeof only[1][1] === "string"
        && [nameAttr.toLowerCase(), "id"].includes(only[0].toLowerCase())) {
        // An index lookup for the connector's common "userName eq" and "id eq" filters; SCIMMY's
        // own matcher still decides, so results equal a full scan.
        const id = only[0].toLowerCase() === "id" ? only[1][1] : index.get(only[1][1].toLowerCase());
        const r = id !== undefined ? all.get(id) : undefined;
        matched = r ? f.match([r]) : [];
    } else {
        matched = f ? f.match([...all.values()]) : [...all.values()];
    }
    const c = { ...(resource.constraints ?? {}) };
    if (c.sortBy !== undefined) {
        const path = c.sortBy.split(".");
        const key = (r) => path.reduce((v, p) => {
            const x = v?.[Object.keys(v ?? {}).find(k => k.toLowerCase() === p.toLowerCase())];
            return Array.isArray(x) ? (x.find(e => e.primary) ?? x[0])?.value ?? x[0] : x;
        }, r);
        matched.sort((a, b) => {
            const ka = key(a), kb = key(b);
            if (ka === undefined || kb === undefined) return ka === kb ? 0 : ka === undefined ? 1 : -1;
            return String(ka).localeCompare(String(kb));
        });
        if (c.sortOrder === "descending") matched.reverse();
        delete c.sortBy;
        delete c.sortOrder;
    }
    const total = matched.length;
    const s = c.startIndex ?? 1;
    const count = c.count ?? defaultCount;
    const page = matched.slice(s - 1, s - 1 + count);
    c.totalResults = total;
    resource.constraints = c;
    // ListResponse slices off s-1 entries when there are at least s of them, unless total
    // equals length+s-1. Prepend the s-1 entries before the page so the slice removes them, and
    // when the equality would suppress the slice, append one more (it is cut by count).
    if (s === 1 || page.length < s) return page;
    const out = matched.slice(0, s - 1).concat(page);
    if (total === out.length + s - 1) out.push(matched[s - 1 + page.length]);
    return out;
}

SCIMMY.Resources.declare(SCIMMY.Resources.User.extend(SCIMMY.Schemas.EnterpriseUser, false), {
    egress(resource) {
        if (resource.id) {
            const r = users.get(resource.id);
            if (!r) throw notFound(resource.id);
            return r;
        }
        return list(resource, users, userNames, "userName");
    },
    ingress(resource, instance) {
        const data = plain(instance);
        const key = data.userName.toLowerCase();
        const holder = userNames.get(key);
        if (holder !== undefined && holder !== resource.id)
            throw new SCIMMY.Types.Error(409, "uniqueness", `userName ${data.userName} is already taken`);
        if (resource.id) {
            const old = users.get(resource.id);
            if (!old) throw notFound(resource.id);
            userNames.delete(old.userName.toLowerCase());
            const r = stamp({ id: resource.id, ...data }, old.meta.created);
            users.set(r.id, r);
            userNames.set(key, r.id);
            refreshDisplay(r);
            return r;
        }
        const r = stamp({ id: randomUUID(), ...data });
        users.set(r.id, r);
        userNames.set(key, r.id);
        return r;
    },
    degress(resource) {
        const r = users.get(resource.id);
        if (!r) throw notFound(resource.id);
        users.delete(r.id);
        userNames.delete(r.userName.toLowerCase());
        // Referential integrity: a deleted user leaves every group it was in.
        for (const g of groups.values()) {
            if (g.members?.some(m => m.value === r.id)) {
                g.members = g.members.filter(m => m.value !== r.id);
                stamp(g, g.meta.created);
            }
        }
    },
});

const userDisplay = (u) => u.displayName ?? u.userName;

// A renamed user's display in its groups follows; the groups' versions do not change.
function refreshDisplay(u) {
    for (const g of groups.values())
        for (const m of g.members ?? []) if (m.value === u.id) m.display = userDisplay(u);
}

// members resolves member values to users or groups and fills display and type; an unknown
// value is a 400 invalidValue, as a real directory refuses dangling references.
function members(list, selfId) {
    const seen = new Set();
    const out = [];
    for (const m of list ?? []) {
        if (seen.has(m.value)) continue;
        seen.add(m.value);
        const u = users.get(m.value);
        const g = u ? undefined : groups.get(m.value);
        if (!u && (!g || m.value === selfId))
            throw new SCIMMY.Types.Error(400, "invalidValue", `member ${m.value} does not exist`);
        out.push(u ? { value: u.id, display: userDisplay(u), type: "User" } : { value: g.id, display: g.displayName, type: "Group" });
    }
    return out;
}

SCIMMY.Resources.declare(SCIMMY.Resources.Group, {
    egress(resource) {
        if (resource.id) {
            const r = groups.get(resource.id);
            if (!r) throw notFound(resource.id);
            return r;
        }
        return list(resource, groups, groupNames, "displayName");
    },
    ingress(resource, instance) {
        const data = plain(instance);
        const key = data.displayName.toLowerCase();
        const holder = groupNames.get(key);
        if (holder !== undefined && holder !== resource.id)
            throw new SCIMMY.Types.Error(409, "uniqueness", `displayName ${data.displayName} is already taken`);
        if (resource.id) {
            const old = groups.get(resource.id);
            if (!old) throw notFound(resource.id);
            data.members = members(data.members, resource.id);
            groupNames.delete(old.displayName.toLowerCase());
            const r = stamp({ id: resource.id, ...data }, old.meta.created);
            groups.set(r.id, r);
            groupNames.set(key, r.id);
            return r;
        }
        data.members = members(data.members);
        const r = stamp({ id: randomUUID(), ...data });
        groups.set(r.id, r);
        groupNames.set(key, r.id);
        return r;
    },
    degress(resource) {
        const r = groups.get(resource.id);
        if (!r) throw notFound(resource.id);
        groups.delete(r.id);
        groupNames.delete(r.displayName.toLowerCase());
        for (const g of groups.values()) {
            if (g.members?.some(m => m.value === r.id)) {
                g.members = g.members.filter(m => m.value !== r.id);
                stamp(g, g.meta.created);
            }
        }
    },
});

// seed fills the store directly, bypassing SCIM, for benchmarks: users user000001@example.com…
// (externalId E000001…), groups group00001… each with membersPerGroup users spread evenly.
function seed({ users: nu, groups: ng, membersPerGroup: mpg }) {
    const base = seededUsers, gbase = seededGroups;
    const ids = [];
    for (let i = 1; i <= nu; i++) {
        const n = String(base + i).padStart(6, "0");
        const userName = `user${n}@example.com`;
        if (userNames.has(userName)) throw Object.assign(new Error(`${userName} exists`), { status: 409 });
        const r = stamp({
            id: randomUUID(), externalId: `E${n}`, userName,
            name: { formatted: `User ${n}`, familyName: n, givenName: "User" },
            displayName: `User ${n}`,
            emails: [{ value: userName, type: "work", primary: true }],
            active: true,
        });
        users.set(r.id, r);
        userNames.set(userName, r.id);
        ids.push(r);
    }
    for (let g = 1; g <= ng; g++) {
        const displayName = `group${String(gbase + g).padStart(5, "0")}`;
        if (groupNames.has(displayName)) throw Object.assign(new Error(`${displayName} exists`), { status: 409 });
        const ms = [];
        for (let k = 0; k < Math.min(mpg, ids.length); k++) {
            const u = ids[((g - 1) * mpg + k) % ids.length];
            ms.push({ value: u.id, display: u.displayName, type: "User" });
        }
        const r = stamp({ id: randomUUID(), displayName, members: ms });
        groups.set(r.id, r);
        groupNames.set(displayName, r.id);
    }
    seededUsers += nu;
    seededGroups += ng;
    return { users: users.size, groups: groups.size };
}

// versionOf returns the current version of the resource a request path names, if any.
function versionOf(path) {
    const m = /^\/(Users|Groups)\/([^/]+)$/.exec(path);
    if (!m) return undefined;
    const r = (m[1] === "Users" ? users : groups).get(decodeURIComponent(m[2]));
    return r ? r.meta.version : undefined;
}

await serve("scimmy", (port) => {
    const token = newToken();
    const app = express();
    app.disable("x-powered-by");
    app.set("etag", false);
    // ETags (RFC 7644 §3.14), which SCIMMY Routers leave to the application: every single
    // resource response carries its meta.version as ETag, and a PUT, PATCH or DELETE with an
    // If-Match that does not name the current version fails with 412.
    app.use(basePath, (req, res, next) => {
        const json = res.json;
        res.json = function (body) {
            if (body?.id && body?.meta?.version && !this.get("ETag")) this.set("ETag", body.meta.version);
            return json.call(this, body);
        };
        const ifMatch = req.get("If-Match");
        if (ifMatch && ["PUT", "PATCH", "DELETE"].includes(req.method) && hasToken(req, token)) {
            const current = versionOf(req.path);
            const tags = ifMatch.split(",").map(t => t.trim());
            if (current !== undefined && !tags.includes("*") && !tags.includes(current))
                return sendSCIMError(res, 412, `resource version is ${current}, not ${ifMatch}`);
        }
        next();
    });
    app.use(basePath, new SCIMMYRouters({
        type: "bearer",
        baseUri: () => `http://127.0.0.1:${port}`, // absolute meta.location
        handler: (req) => {
            if (!hasToken(req, token)) throw new Error("missing or invalid bearer token");
            return "gatehouse";
        },
    }));
    SCIMMY.Config.set({ etag: { supported: true } });
    app.use((req, res) => sendSCIMError(res, 404, "not found"));
    return { handler: app, basePath, token, seed };
});
