-- Reads what channels hold after a cursor, as one atomic snapshot.
--
-- KEYS: the id counter, the epoch, then each channel's last-id key and stream.
-- ARGV: the cursor ('' for none), history length, history lifetime in ms.
-- Returns {newest id, epoch, cursor valid (1/0), {numbers of channels with a gap},
-- {{channel number, id, data}, ...}}; channels are numbered from 1 in KEYS order.
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
-- A cursor from the future or from before this history began (Redis lost its data).
if cursor > tonumber(newest) or cursor < tonumber(epoch) then
  return {newest, epoch, 0, {}, {}}
end
local limit = tonumber(ARGV[2])
local horizon = now - tonumber(ARGV[3]) * 1000
local gaps, entries = {}, {}
for i = 3, #KEYS, 2 do
  local n = (i - 1) / 2
  local last = redis.call('GET', KEYS[i])
  if not last then
    -- No history: nothing was published for a whole lifetime, unless the cursor is
    -- older than that.
    if cursor < horizon then
      table.insert(gaps, n)
    end
  elseif tonumber(last) > cursor then
    local found = redis.call('XREVRANGE', KEYS[i + 1], '+', '(' .. ARGV[1] .. '-0', 'COUNT', limit + 1)
    -- More than the history length after the cursor, or the entry before the oldest
    -- one found (its `p` field) is newer than the cursor and trimmed: a gap.
    if #found == 0 or #found > limit or tonumber(found[#found][2][2]) > cursor then
      table.insert(gaps, n)
    else
      for j = #found, 1, -1 do
        local entry = found[j]
        table.insert(entries, {n, string.sub(entry[1], 1, -3), entry[2][4]})
      end
    end
  end
end
return {newest, epoch, 1, gaps, entries}
