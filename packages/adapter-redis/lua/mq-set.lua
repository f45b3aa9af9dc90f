-- msgctl(IPC_SET): changes the fields given ('' = unchanged). Raising maxBytes wakes senders.
-- KEYS[1] meta. ARGV: id, uid, maxBytes, mode, newUid, newGid, msgmnb, tag
local meta = KEYS[1]
if not alive(meta, ARGV[1]) then return {'EINVAL'} end
local uid = tonumber(ARGV[2])
if not is_owner(meta, uid) then return {'EPERM'} end
if ARGV[3] ~= '' and tonumber(ARGV[3]) > tonumber(ARGV[7]) and uid ~= 0 then return {'EPERM'} end
if ARGV[3] ~= '' then redis.call('HSET', meta, 'qbytes', ARGV[3]) end
if ARGV[4] ~= '' then redis.call('HSET', meta, 'mode', ARGV[4]) end
if ARGV[5] ~= '' then redis.call('HSET', meta, 'uid', ARGV[5]) end
if ARGV[6] ~= '' then redis.call('HSET', meta, 'gid', ARGV[6]) end
redis.call('HSET', meta, 'ctime', now_s())
redis.call('PUBLISH', ARGV[8] .. ':ch', 'c')
return {'OK'}
