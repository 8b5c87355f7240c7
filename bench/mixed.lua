-- wrk script of bench/mixed.sh: a mixed workload over three generated modules (projects,
-- tasks with a ref to projects and an enum, customers), many tenants.
--
-- BENCH_DATA names a file with one line per tenant: its bearer token, then ids prefixed with
-- the module they belong to (p:<uuid> a project, t:<uuid> a task, c:<uuid> a customer).
-- Every request picks a tenant at random, then one of these by weight:
--   30  GET   /api/projects/{id}, /api/tasks/{id} or /api/customers/{id} (a third each)
--   30  GET   /api/tasks?status=<s>&sort=-priority&limit=20     (a filter and a sort)
--         or /api/customers?city=<c>&sort=name&limit=20         (half each)
--   20  POST  /api/tasks          (a ref to one of the tenant's projects, an enum; 201)
--   20  PATCH /api/projects/{id}  (description) or /api/customers/{id} (city), half each
-- so every tenant's requests use 8 statement texts (3 reads by id, 2 lists, 1 insert,
-- 2 updates).
--
-- done() prints the same BENCH_RESULT line as bench/projects.lua, which bench/lib.sh parses.

local data_file = os.getenv("BENCH_DATA") or error("BENCH_DATA is not set")
local statuses = { "todo", "doing", "done" }
-- bench/mixed.sh seeds customers' cities from the same list.
local cities = { "Lisbon", "Oslo", "Lagos", "Lima", "Osaka" }

local tenants = {}
for line in io.lines(data_file) do
    local tenant = { projects = {}, tasks = {}, customers = {} }
    for field in line:gmatch("%S+") do
        local kind, id = field:match("^([ptc]):(.+)$")
        if kind == "p" then
            tenant.projects[#tenant.projects + 1] = id
        elseif kind == "t" then
            tenant.tasks[#tenant.tasks + 1] = id
        elseif kind == "c" then
            tenant.customers[#tenant.customers + 1] = id
        else
            tenant.auth = "Bearer " .. field
        end
    end
    if tenant.auth then
        if #tenant.projects == 0 or #tenant.tasks == 0 or #tenant.customers == 0 then
            error("a tenant in " .. data_file .. " lacks projects, tasks or customers")
        end
        tenants[#tenants + 1] = tenant
    end
end
if #tenants == 0 then
    error("no tenants in " .. data_file)
end

local next_thread = 0

function setup(thread)
    next_thread = next_thread + 1
    thread:set("thread_id", next_thread)
end

local counter = 0

function init(args)
    math.randomseed(os.time() * 1000 + (thread_id or 0))
end

local function pick(list)
    return list[math.random(#list)]
end

function request()
    local tenant = pick(tenants)
    local headers = { ["Authorization"] = tenant.auth }
    local roll = math.random(100)
    local half = math.random(2) == 1
    if roll <= 30 then
        local which = math.random(3)
        if which == 1 then
            return wrk.format("GET", "/api/projects/" .. pick(tenant.projects), headers)
        elseif which == 2 then
            return wrk.format("GET", "/api/tasks/" .. pick(tenant.tasks), headers)
        end
        return wrk.format("GET", "/api/customers/" .. pick(tenant.customers), headers)
    elseif roll <= 60 then
        if half then
            return wrk.format("GET", "/api/tasks?status=" .. pick(statuses)
                .. "&sort=-priority&limit=20", headers)
        end
        return wrk.format("GET", "/api/customers?city=" .. pick(cities) .. "&sort=name&limit=20",
            headers)
    end
    headers["Content-Type"] = "application/json"
    counter = counter + 1
    if roll <= 80 then
        local body = string.format(
            '{"project_id":"%s","status":"%s","title":"bench %d-%d","priority":%d}',
            pick(tenant.projects), pick(statuses), thread_id or 0, counter, math.random(100))
        return wrk.format("POST", "/api/tasks", headers, body)
    end
    if half then
        local body = string.format('{"description":"patched %d-%d"}', thread_id or 0, counter)
        return wrk.format("PATCH", "/api/projects/" .. pick(tenant.projects), headers, body)
    end
    return wrk.format("PATCH", "/api/customers/" .. pick(tenant.customers), headers,
        string.format('{"city":"%s"}', pick(cities)))
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "BENCH_RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d errors=%d non2xx=%d\n",
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
        e.connect + e.read + e.write + e.timeout, e.status))
end
