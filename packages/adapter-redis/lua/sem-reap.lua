-- Applies the SEM_UNDO adjustments of a client whose lease ran out (or that is closing), and
-- forgets its waiter entries. Runs at most once per adjustment: each is deleted as it is applied,
-- in this one atomic step. Values are clamped to 0..SEMVMX as the kernel's exit_sem does.
-- KEYS: meta, val, undo, wait. ARGV: clientId, tag
local meta, val, undo, wait = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
if redis.call('EXISTS', meta) == 0 then return {'OK'} end
local prefix = ARGV[1] .. ':'
local changed = false
for _, field in ipairs(redis.call('HKEYS', undo)) do
  if string.sub(field, 1, #prefix) == prefix then
    local idx = string.sub(field, #prefix + 1)
    local adj = tonumber(redis.call('HGET', undo, field))
    local value = tonumber(redis.call('HGET', val, idx) or '0') + adj
    if value < 0 then value = 0 end
    if value > 32767 then value = 32767 end
    redis.call('HSET', val, idx, value)
    redis.call('HDEL', undo, field)
    changed = true
  end
end
for _, field in ipairs(redis.call('HKEYS', wait)) do
  if string.sub(field, 1, #prefix) == prefix then redis.call('HDEL', wait, field) end
end
if changed then redis.call('PUBLISH', ARGV[2] .. ':ch', 'u') end
return {'OK'}
