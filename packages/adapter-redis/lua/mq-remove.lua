-- msgctl(IPC_RMID): deletes the queue and its messages; waiters learn it from the 'x' notice,
-- registered receives (mq-receive.lua) from an EINVAL handed to their inbox.
-- KEYS: meta, order, typ, data, types, blocked, claims, waiters, wq. ARGV: id, uid, tag
local meta, order, typ, data, types, blocked, claims = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local waiters, wq = KEYS[8], KEYS[9]
if not alive(meta, ARGV[1]) then return {'EINVAL'} end
if not is_owner(meta, tonumber(ARGV[2])) then return {'EPERM'} end
for _, t in ipairs(redis.call('ZRANGE', types, 0, -1)) do redis.call('DEL', ARGV[3] .. ':t:' .. t) end
for _, entry in ipairs(redis.call('LRANGE', wq, 0, -1)) do
  local w, inbox = string.match(entry, '^(%S+) %S+ %S+ %S+ %S+ %S+ (.+)$')
  redis.call('RPUSH', inbox, w .. '\nEINVAL\n\n')
end
redis.call('DEL', meta, order, typ, data, types, blocked, claims, waiters, wq)
redis.call('PUBLISH', ARGV[3] .. ':ch', 'x')
return {'OK'}
