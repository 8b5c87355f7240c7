-- wrk script shared by bench/load.sh, bench/fastapi.sh and bench/lists.sh.
--
-- BENCH_DATA names a file with one line per tenant: its bearer token, then paths (URL-encoded)
-- that this tenant may GET, separated by spaces: its projects (`/api/projects/{id}`) for
-- load.sh, the lists to load for lists.sh. Every request picks a tenant at random and uses that
-- tenant's token, so the load is spread over all tenants (and over their schemas on the server
-- side); a GET also picks one of that tenant's paths, so every such request finds its row
-- (200, not 404).
--
-- BENCH_SCENARIO is one of:
--   get   GET  one of the tenant's paths
--   list  GET  /api/projects          (the default page: 50 items, oldest first)
--   post  POST /api/projects          (a small JSON body; 201)
--   keyed POST /api/projects          (the same, with an Idempotency-Key of its own: the cost of
--                                      storing the response with the row)
--
-- done() prints one machine-readable line, BENCH_RESULT ..., that the shell scripts parse;
-- wrk's own --latency output is kept beside it for people.

local scenario = os.getenv("BENCH_SCENARIO") or "get"
local data_file = os.getenv("BENCH_DATA") or error("BENCH_DATA is not set")

-- This chunk runs once in every thread's Lua state (and once in the main one), so each thread
-- gets its own copy of the tenants table and no state is shared between threads.
local tenants = {}
for line in io.lines(data_file) do
    local fields = {}
    for field in line:gmatch("%S+") do
        fields[#fields + 1] = field
    end
    if #fields > 0 then
        local tenant = { auth = "Bearer " .. fields[1], paths = {} }
        for i = 2, #fields do
            tenant.paths[#tenant.paths + 1] = fields[i]
        end
        tenants[#tenants + 1] = tenant
    end
end
if #tenants == 0 then
    error("no tenants in " .. data_file)
end
if scenario ~= "get" and scenario ~= "list" and scenario ~= "post" and scenario ~= "keyed" then
    error("BENCH_SCENARIO must be get, list, post or keyed, not " .. scenario)
end

local next_thread = 0

-- Runs in the main state, once per thread, before the threads start.
function setup(thread)
    next_thread = next_thread + 1
    thread:set("thread_id", next_thread)
end

local counter = 0

function init(args)
    -- Without this, every thread would draw the same sequence of tenants and paths.
    math.randomseed(os.time() * 1000 + (thread_id or 0))
end

function request()
    local tenant = tenants[math.random(#tenants)]
    if scenario == "get" then
        local path = tenant.paths[math.random(#tenant.paths)]
        return wrk.format("GET", path, { ["Authorization"] = tenant.auth })
    elseif scenario == "list" then
        return wrk.format("GET", "/api/projects", { ["Authorization"] = tenant.auth })
    else
        counter = counter + 1
        local body = string.format(
            '{"name":"bench %d-%d","description":"created by wrk"}', thread_id or 0, counter)
        local headers = {
            ["Authorization"] = tenant.auth,
            ["Content-Type"] = "application/json",
        }
        if scenario == "keyed" then
            -- Unique across threads and runs: each request is a first request.
            headers["Idempotency-Key"] = string.format(
                "bench-%d-%d-%d", os.time(), thread_id or 0, counter)
        end
        return wrk.format("POST", "/api/projects", headers, body)
    end
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "BENCH_RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d errors=%d non2xx=%d\n",
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
        e.connect + e.read + e.write + e.timeout, e.status))
end
