-- sem_unlink: removes the name; the semaphore goes now if no handle is open, else with the last.
-- KEYS: name, tag. ARGV: uid
local gen = redis.call('GET', KEYS[1])
if not gen then return {'ENOENT'} end
if not is_owner(KEYS[2] .. ':g' .. gen, tonumber(ARGV[1])) then return {'EPERM'} end
redis.call('DEL', KEYS[1])
if redis.call('HLEN', KEYS[2] .. ':r' .. gen) == 0 then redis.call('DEL', KEYS[2] .. ':g' .. gen) end
return {'OK'}
