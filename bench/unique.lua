-- wrk script: every request asks to sign a message of its own, `<the URL's message>-<run>-<thread>-<n>`,
-- so that no member answers from the signatures it made already. The run's tag is the script's
-- first argument (`wrk ... -s bench/unique.lua URL -- TAG`).
local threads = 0

function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

function init(args)
  prefix = wrk.path .. "-" .. (args[1] or "run") .. "-" .. id .. "-"
  counter = 0
end

function request()
  counter = counter + 1
  return wrk.format(nil, prefix .. counter)
end
