-- wrk script for GET requests over prepared paths, used by bench/lists.sh.
--
-- BENCH_DATA names a file with one line per tenant: its bearer token, then the paths (with
-- their query strings, already URL-encoded) that this tenant's requests choose from. Every
-- request picks a tenant at random, then one of its paths, so the load is spread over all
-- tenants and, for a filter, over its values.
--
-- done() prints the same BENCH_RESULT line as projects.lua, which bench/lib.sh parses.

local data_file = os.getenv("BENCH_DATA") or error("BENCH_DATA is not set")

local tenants = {}
for line in io.lines(data_file) do
    local fields = {}
    for field in line:gmatch("%S+") do
        fields[#fields + 1] = field
    end
    if #fields > 1 then
        local tenant = { auth = "Bearer " .. fields[1], paths = {} }
        for i = 2, #fields do
            tenant.paths[#tenant.paths + 1] = fields[i]
        end
        tenants[#tenants + 1] = tenant
    end
end
if #tenants == 0 then
    error("no tenant with paths in " .. data_file)
end

local next_thread = 0

function setup(thread)
    next_thread = next_thread + 1
    thread:set("thread_id", next_thread)
end

function init(args)
    math.randomseed(os.time() * 1000 + (thread_id or 0))
end

function request()
    local tenant = tenants[math.random(#tenants)]
    local path = tenant.paths[math.random(#tenant.paths)]
    return wrk.format("GET", path, { ["Authorization"] = tenant.auth })
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "BENCH_RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d errors=%d non2xx=%d\n",
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
        e.connect + e.read + e.write + e.timeout, e.status))
end
