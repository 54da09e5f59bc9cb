-- Guest paths resolved the way the kernel will resolve them. A linux-user
-- guest shares the host's file system, and QEMU's process is the guest's:
-- its cwd is the guest's cwd and its fds are the guest's fds. So a guest
-- path can be resolved on the host, here, component by component: "." and
-- ".." and repeated slashes as the kernel walks them, and every symbolic
-- link met on the way replaced by its target (also a dangling one, which
-- a creating open would follow). The result is the canonical absolute
-- path of the object the syscall would reach, as realpath() gives it for
-- the part that exists.
local ffi = require "ffi"

-- Own names for the C symbols (asm labels): no clash with other modules.
ffi.cdef [[
long lh_hostpath_readlink(const char *path, char *buf, unsigned long size) __asm__("readlink");
char *lh_hostpath_getcwd(char *buf, unsigned long size) __asm__("getcwd");
]]

local hostpath = {}

local PATH_MAX = 4096
local MAX_LINKS = 40 -- the kernel's limit, beyond which it fails with ELOOP
local buffer = ffi.new("char[?]", PATH_MAX)

--- The target of symbolic link `path`, or nil when it is not one (or does
--- not exist).
---@param path string
---@return string?
function hostpath.readlink(path)
    local n = ffi.C.lh_hostpath_readlink(path, buffer, PATH_MAX)
    if n < 0 then
        return nil
    end
    return ffi.string(buffer, n)
end

--- The current working directory (the guest's), or nil.
---@return string?
function hostpath.cwd()
    if ffi.C.lh_hostpath_getcwd(buffer, PATH_MAX) ~= nil then
        local cwd = ffi.string(buffer)
        if cwd:sub(1, 1) == "/" then
            return cwd
        end
    end
    return nil
end

--- The path of the calling guest thread's open file descriptor `fd`, or
--- nil when it is not open. A thread may have a descriptor table of its
--- own (unshare CLONE_FILES), and /proc/self stands for the main thread,
--- which may have ended.
---@param fd integer
---@return string?
function hostpath.fd(fd)
    return hostpath.readlink("/proc/thread-self/fd/" .. fd)
end

local function parent(dir)
    return dir:match("^(.+)/[^/]*$") or "/"
end

local function join(dir, name)
    if dir == "/" then
        return "/" .. name
    end
    return dir .. "/" .. name
end

local function components(path)
    local list = {}
    for part in (path .. "/"):gmatch("([^/]*)/") do list[#list + 1] = part end
    return list
end

--- The canonical absolute path `path` leads to. A relative path starts at
--- `base` (a canonical absolute directory). `follow` false leaves a symlink
--- in the last component as it is (lstat, unlink, rename). `root` (default
--- "/") is the directory ".." cannot leave and absolute paths and symlink
--- targets start from, for openat2's RESOLVE_IN_ROOT. Nil and a reason
--- when the kernel would fail with ELOOP.
---@param path string
---@param base string
---@param follow boolean
---@param root? string
---@return string? resolved
---@return string? error
function hostpath.resolve(path, base, follow, root)
    root = root or "/"
    local cur = path:sub(1, 1) == "/" and root or base
    local pending, i, links = components(path), 1, 0
    while i <= #pending do
        local name = pending[i]
        i = i + 1
        if name == ".." then
            if cur ~= root then cur = parent(cur) end
        elseif name ~= "" and name ~= "." then
            local candidate = join(cur, name)
            local target = nil
            -- a trailing slash (a last "" component) makes the kernel follow too
            if follow or i <= #pending then
                target = hostpath.readlink(candidate)
            end
            if target then
                links = links + 1
                if links > MAX_LINKS then
                    return nil, "too many levels of symbolic links"
                end
                local spliced = components(target)
                for j = i, #pending do spliced[#spliced + 1] = pending[j] end
                pending, i = spliced, 1
                if target:sub(1, 1) == "/" then cur = root end
            else
                cur = candidate
            end
        end
    end
    return cur
end

--- Whether canonical path `path` is `prefix` or lies below it (by whole
--- components: "/tmp/ok" holds "/tmp/ok/x", not "/tmp/okay").
---@param path string
---@param prefix string
---@return boolean
function hostpath.within(path, prefix)
    if prefix == "/" or path == prefix then
        return true
    end
    return path:sub(1, #prefix + 1) == prefix .. "/"
end

return hostpath
