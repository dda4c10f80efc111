-- wrk script of the soak run: a mix of requests, and the answers counted by status.
-- Arguments (after `--`): the hello machine, the signing machine, the counter machine.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  hello, sign, counter = args[1], args[2], args[3]
  n = 0
  statuses = {}
end

-- Out of every 20 requests: 12 hello activations, 3 signatures, 3 state writes, one to a
-- machine that does not exist and one with a body that is no JSON.
function request()
  n = n + 1
  local k = n % 20
  if k < 12 then
    return wrk.format("GET", "/machines/" .. hello .. "/activate/say?message=soak")
  elseif k < 15 then
    return wrk.format("GET", "/machines/" .. sign .. "/activate/sign?message=soak-" .. n)
  elseif k < 18 then
    return wrk.format("POST", "/machines/" .. counter .. "/activate/increment",
      { ["content-type"] = "application/json" }, '{"note": "soak"}')
  elseif k == 18 then
    return wrk.format("GET", "/machines/" .. string.rep("0", 64) .. "/activate/say?message=x")
  else
    return wrk.format("POST", "/machines/" .. hello .. "/activate/say",
      { ["content-type"] = "application/json" }, "{not json")
  end
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    local counted = thread:get("statuses")
    for status, count in pairs(counted) do
      total[status] = (total[status] or 0) + count
    end
  end
  for status, count in pairs(total) do
    io.write(string.format("status %d %d\n", status, count))
  end
end
