-- Helpers shared by every script of @ipcx/adapter-redis. The loader (src/scripts.ts) puts this
-- file in front of each script's own source, so each script stays one atomic unit on the server.
--
-- Replies: every script returns an array whose first element is a status: 'OK', 'BLOCK' (the
-- operation would have to wait: nothing was changed) or an errno name ('EINVAL', 'EAGAIN', ...).

-- Seconds since the epoch, from the server's clock (one clock for every client).
local function now_s()
  return tonumber(redis.call('TIME')[1])
end

-- Milliseconds since the epoch, from the server's clock.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Linux's ipcperms() on fields already read: does the caller (uid, gid) have every bit of `want`
-- (4 read, 2 write), given f = {uid, gid, cuid, cgid, mode} of the object? Root has them all.
-- (Saves a call when a script reads these fields with others in one HMGET.)
local function granted_by(f, uid, gid, want)
  if uid == 0 or want == 0 then return true end
  local mode = tonumber(f[5]) or 0
  local granted
  if uid == tonumber(f[1]) or uid == tonumber(f[3]) then
    granted = bit.band(bit.rshift(mode, 6), 7)
  elseif gid == tonumber(f[2]) or gid == tonumber(f[4]) then
    granted = bit.band(bit.rshift(mode, 3), 7)
  else
    granted = bit.band(mode, 7)
  end
  return bit.band(want, bit.bnot(granted)) == 0
end

-- ipcperms() on the object described by the hash `meta` (fields uid, gid, cuid, cgid, mode).
local function permitted(meta, uid, gid, want)
  if uid == 0 or want == 0 then return true end
  return granted_by(redis.call('HMGET', meta, 'uid', 'gid', 'cuid', 'cgid', 'mode'), uid, gid, want)
end

-- May the caller change or remove the object (owner, creator or root)?
local function is_owner(meta, uid)
  if uid == 0 then return true end
  local f = redis.call('HMGET', meta, 'uid', 'cuid')
  return uid == tonumber(f[1]) or uid == tonumber(f[2])
end

-- The object in `meta` is the one with this id (not removed, not replaced by a new one).
local function alive(meta, id)
  return redis.call('HGET', meta, 'id') == id
end

-- Runs `command key items...` in pieces of at most 1,000 items (Lua's unpack has a stack limit);
-- pairs (HSET field value) stay together. Nothing is run for an empty list.
local function bulk(command, key, items)
  for i = 1, #items, 1000 do
    redis.call(command, key, unpack(items, i, math.min(i + 999, #items)))
  end
end

-- Appends `a` (and `b`, if given) to the list groups[key], made on first use, when `key` is also
-- noted in `keys` (so the groups can be written in the order their keys first came).
local function push_grouped(groups, keys, key, a, b)
  local list = groups[key]
  if list == nil then
    list = {}
    groups[key] = list
    keys[#keys + 1] = key
  end
  list[#list + 1] = a
  if b ~= nil then list[#list + 1] = b end
end
