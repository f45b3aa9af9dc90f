-- sem_post: adds one unit (EOVERFLOW at SEM_VALUE_MAX) and wakes waiters.
-- KEYS: name, tag. ARGV: gen
local object = KEYS[2] .. ':g' .. ARGV[1]
local value = tonumber(redis.call('HGET', object, 'value') or '-1')
if value < 0 then return {'EINVAL'} end
if value >= 2147483647 then return {'EOVERFLOW'} end
redis.call('HSET', object, 'value', value + 1)
redis.call('PUBLISH', KEYS[2] .. ':ch', 'p')
return {'OK'}
