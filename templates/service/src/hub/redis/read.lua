-- Reads what channels hold after a cursor, as one atomic snapshot.
--
-- KEYS: the id counter, the epoch, then each channel's last-id key and stream.
-- ARGV: the cursor ('' for none), history length, history lifetime in ms.
-- Returns {newest id, epoch, cursor valid (1/0), {{channel number, floor}, ...} for
-- the channels with a gap, {{channel number, id, data}, ...}}; channels are numbered
-- from 1 in KEYS order. A channel with a gap is complete after its floor, and its
-- entries are those after the floor.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local newest = redis.call('GET', KEYS[1])
if not newest then
  newest = string.format('%.0f', now)
  redis.call('SET', KEYS[1], newest)
  redis.call('SET', KEYS[2], newest)
end
local epoch = redis.call('GET', KEYS[2]) or '0'
if ARGV[1] == '' then
  return {newest, epoch, 1, {}, {}}
end
local cursor = tonumber(ARGV[1])
local valid = 1
-- A cursor from the future or from before this history began (Redis lost its data):
-- what Redis holds begins at the epoch, so read from there.
if cursor > tonumber(newest) or cursor < tonumber(epoch) then
  cursor = tonumber(epoch)
  valid = 0
end
local start = string.format('%.0f', cursor)
local limit = tonumber(ARGV[2])
local ttl_ms = ARGV[3]
local horizon = now - tonumber(ttl_ms) * 1000
local gaps, entries = {}, {}
for i = 3, #KEYS, 2 do
  local n = (i - 1) / 2
  local last = redis.call('GET', KEYS[i])
  local found = {}
  if not last then
    -- No history: nothing was published for a whole lifetime, so anything after the
    -- horizon (or the newest id, if older) is complete. Remember that point as the
    -- channel's last id, so a client continuing from it sees no gap next time.
    local floor = math.min(horizon, tonumber(newest))
    if cursor < floor then
      floor = string.format('%.0f', floor)
      redis.call('SET', KEYS[i], floor, 'PX', ttl_ms)
      table.insert(gaps, {n, floor})
    end
  elseif tonumber(last) > cursor then
    found = redis.call('XREVRANGE', KEYS[i + 1], '+', '(' .. start .. '-0', 'COUNT', limit + 1)
    if #found == 0 then
      -- The stream is gone: nothing is left up to the channel's last id.
      table.insert(gaps, {n, last})
    elseif #found > limit then
      -- More than the history length after the cursor: keep the newest `limit`.
      local oldest = table.remove(found)
      table.insert(gaps, {n, string.sub(oldest[1], 1, -3)})
    elseif tonumber(found[#found][2][2]) > cursor then
      -- The entry before the oldest one found (its `p` field) was trimmed.
      table.insert(gaps, {n, found[#found][2][2]})
    end
  end
  for j = #found, 1, -1 do
    local entry = found[j]
    table.insert(entries, {n, string.sub(entry[1], 1, -3), entry[2][4]})
  end
end
return {newest, epoch, valid, gaps, entries}
