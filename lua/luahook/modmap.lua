-- Which ELF file is mapped where in the guest, for stack traces and
-- symbols: the modules C's unwinder (core/unwind.c) is told about.
--
-- Nothing runs until the first trace or symbol is asked for. Then what is
-- mapped already is found out once: the program and its interpreter from
-- what QEMU says it loaded, the shared libraries from the dynamic linker's
-- list of them (r_debug, which the program's DT_DEBUG entry points to, as
-- debuggers find it). From then on the guest's own mmap, munmap and mremap
-- calls keep the map up to date; a mapped file's name is what its
-- descriptor refers to (/proc/self/fd/N: QEMU passes descriptors through,
-- and opened the file under the -L sysroot if there was one). An ELF image
-- no file backs (the vDSO QEMU provides) is found by its header when a
-- frame lands in memory no known module covers.
local ffi = require "ffi"
local context = require "luahook._core.context"
local fds = require "luahook.decode.fds"
local hooks = require "luahook._core.hooks"
local int = require "luahook._guest.int"
local memory = require "luahook._guest.memory"
local qemu_options = require "luahook._core.qemu_options"
local syscalls = require "luahook.syscalls"

local modmap = {}

local core = context.core
local PAGE = 4096               -- i386's and x86_64's
local PROBE_PAGES = 16          -- how far below an address an image header may be
local PROT_EXEC, MAP_ANONYMOUS = 0x4, 0x20
local VDSO_NAMES = { ["linux-vdso.so.1"] = true, ["linux-gate.so.1"] = true }

-- The map, sorted by start: { start, stop, exec, and path + offset (a file)
-- or image + name (an ELF image in memory) }. Only what matters for modules
-- is kept: file mappings, and images.
local mappings = {}
local tracking, discovered = false, false
local changed = true            -- the module list C has is stale
local broken = {}               -- module key -> why C could not use it
local probed = {}               -- page -> true: searched for an image below it
local elf_cache = {}            -- host path -> elf_file's table, or false

local function page_down(a) return a - a % PAGE end
local function page_up(a) return page_down(a + PAGE - 1) end

local function elf_file(path)
    local info = elf_cache[path]
    if info == nil then
        info = core.elf_file(path) or false
        elf_cache[path] = info
    end
    return info or nil
end

---------------------------------------------------------------- the map

-- Removes [start, stop) from the map, cutting mappings that straddle it.
local function punch(start, stop)
    local kept = {}
    for _, m in ipairs(mappings) do
        if m.stop <= start or m.start >= stop then
            kept[#kept + 1] = m
        else
            if m.start < start then
                local left = {}
                for k, v in pairs(m) do left[k] = v end
                left.stop = start
                kept[#kept + 1] = left
            end
            if m.stop > stop then
                local right = {}
                for k, v in pairs(m) do right[k] = v end
                right.start = stop
                if right.offset then right.offset = m.offset + (stop - m.start) end
                kept[#kept + 1] = right
            end
            changed = true
        end
    end
    mappings = kept
end

local function insert(m)
    punch(m.start, m.stop)
    local at = #mappings + 1
    for i, other in ipairs(mappings) do
        if other.start > m.start then at = i break end
    end
    table.insert(mappings, at, m)
    changed = true
end

--- The mapping that covers `addr`, or nil.
function modmap.at(addr)
    for _, m in ipairs(mappings) do
        if addr >= m.start and addr < m.stop then return m end
    end
end

-- Maps the PT_LOAD segments of the ELF file `path` (described by `info`)
-- with load bias `bias`, as a loader would have.
local function map_loaded(path, info, bias)
    for _, load in ipairs(info.loads) do
        insert({ start = page_down(bias + load.vaddr), stop = page_up(bias + load.vaddr + load.filesz),
                 path = path, offset = page_down(load.offset), exec = load.exec })
    end
end

---------------------------------------------------------------- host paths

-- under names of their own, so that a script may declare the C ones
ffi.cdef [[
char *lh_modmap_realpath(const char *path, char *resolved) __asm__("realpath");
void lh_modmap_free(void *p) __asm__("free");
]]

-- `path` without symbolic links, as /proc/self/fd names files too.
local function real(path)
    local resolved = ffi.C.lh_modmap_realpath(path, nil)
    if resolved == nil then return path end
    local text = ffi.string(resolved)
    ffi.C.lh_modmap_free(resolved)
    return text
end

-- The host file for a path the guest names, as QEMU resolves it: under
-- its -L sysroot first.
local function host_path(path)
    local sysroot = qemu_options.sysroot()
    if sysroot and path:sub(1, 1) == "/" then
        local f = io.open(sysroot .. path, "rb")
        if f then
            f:close()
            return real(sysroot .. path)
        end
    end
    return real(path)
end

---------------------------------------------------------------- what is there already

-- The first executable segment's address in the file, which QEMU's
-- start_code is once loaded.
local function first_code(info)
    local lowest
    for _, load in ipairs(info.loads) do
        if load.exec and (not lowest or load.vaddr < lowest) then lowest = load.vaddr end
    end
    return lowest or 0
end

-- The libraries in the dynamic linker's list, from the program's DT_DEBUG
-- entry (0 until the linker has filled it). Bounded, so a corrupt list
-- cannot loop.
local DT_NULL, DT_DEBUG = 0, 21
local function linked_libraries(dynamic)
    local word = context.word_size
    local r_debug
    for i = 0, 255 do
        local tag = memory.int(dynamic + 2 * word * i, "ulong")
        if not tag or tag == DT_NULL then break end
        if tag == DT_DEBUG then
            r_debug = memory.int(dynamic + 2 * word * i + word, "ulong")
            break
        end
    end
    local found = {}
    if not r_debug or r_debug == 0 then return found end
    -- struct r_debug { int r_version; struct link_map *r_map; ... }
    local map = memory.int(r_debug + word, "ulong")
    local seen = {}
    while map and map ~= 0 and not seen[map] and #found < 1024 do
        seen[map] = true
        -- struct link_map { l_addr, l_name, l_ld, l_next, l_prev }
        local bias = memory.int(map, "ulong")
        local name_at = memory.int(map + word, "ulong")
        local name = name_at and name_at ~= 0 and memory.string(name_at)
        if bias and name and name:sub(1, 1) == "/" then
            found[#found + 1] = { path = name, bias = bias }
        end
        map = memory.int(map + 3 * word, "ulong")
    end
    return found
end

-- The program and its interpreter as QEMU loaded them, and the libraries
-- the dynamic linker has loaded since.
local function discover()
    local program = core.guest_program()
    local info = program and elf_file(program.path)
    if not info then return end
    local bias = info.type == "dyn" and program.start_code - first_code(info) or 0
    map_loaded(program.path, info, bias)
    if info.interp then
        local path = host_path(info.interp)
        local interp = elf_file(path)
        if interp then map_loaded(path, interp, program.entry - interp.entry) end
    end
    if info.dynamic then
        for _, lib in ipairs(linked_libraries(bias + info.dynamic)) do
            local path = host_path(lib.path)
            local lib_info = elf_file(path)
            if lib_info then map_loaded(path, lib_info, lib.bias) end
        end
    end
end

---------------------------------------------------------------- the guest's own calls

local descriptors = fds.new()

-- The host file behind guest descriptor fd, or nil.
local function file_of(fd)
    descriptors:forget(fd)
    local path = descriptors:path(fd)
    if path and path:sub(1, 1) == "/" and not path:match(" %(deleted%)$") then
        return path
    end
end

local function failed(ret)
    return type(ret) ~= "number" or (ret < 0 and ret > -4096)
end

-- mmap's arguments: address, length, prot, flags, fd, offset in bytes. On
-- i386, "mmap" passes them in memory and mmap2 counts the offset in pages.
local function mmap_args(sc)
    local a = sc.args
    if sc.name == "mmap2" then
        return a[2], a[3], a[4], sc:int(5), a[6] * PAGE
    elseif context.arch == "i386" then
        local words = {}
        for i = 0, 5 do words[i + 1] = memory.int(a[1] + 4 * i, "u32") end
        if not words[6] then return nil end
        return words[2], words[3], words[4], int.signed(words[5], 32), words[6]
    end
    return a[2], a[3], a[4], sc:int(5), a[6]
end

local function on_mmap(sc, ret)
    if failed(ret) then return end
    local len, prot, flags, fd, offset = mmap_args(sc)
    if not len then return end
    local path = bit.band(flags, MAP_ANONYMOUS) == 0 and fd >= 0 and file_of(fd)
    punch(ret, ret + page_up(len))
    if path then
        insert({ start = ret, stop = ret + page_up(len), path = path, offset = offset,
                 exec = bit.band(prot, PROT_EXEC) ~= 0 })
    end
end

local function on_munmap(sc, ret)
    if failed(ret) then return end
    punch(sc.args[1], sc.args[1] + page_up(sc.args[2]))
end

local function on_mremap(sc, ret)
    if failed(ret) then return end
    local old, old_len, new_len = sc.args[1], sc.args[2], sc.args[3]
    local m = modmap.at(old)
    punch(old, old + page_up(old_len))
    if m and m.path then
        insert({ start = ret, stop = ret + page_up(new_len), path = m.path,
                 offset = m.offset + (old - m.start), exec = m.exec })
    end
end

--- Follows the guest's mmap, munmap and mremap calls from now on (a script
--- that calls it while loading misses none); idempotent.
function modmap.track()
    if tracking then return end
    tracking = true
    local function watch(name, fn)
        local selection = syscalls.number(name) and syscalls.select(name)
        -- first: a script's own after-hook on mmap sees the new module
        if selection then hooks.add("after", selection, fn, "module map (" .. name .. ")", "first") end
    end
    watch("mmap", on_mmap)
    watch("mmap2", on_mmap)
    watch("munmap", on_munmap)
    watch("mremap", on_mremap)
end

---------------------------------------------------------------- modules

-- The load bias a file mapping implies: the segment whose file range
-- holds its offset is at that offset's address. A file mapped below the
-- addresses it was linked for has none (no loader does that).
local function bias_of(m)
    local info = elf_file(m.path)
    if not info then return nil end
    for _, load in ipairs(info.loads) do
        local file_start = page_down(load.offset)
        if m.offset >= file_start and m.offset < load.offset + load.filesz then
            local bias = m.start - (page_down(load.vaddr) + (m.offset - file_start))
            return bias >= 0 and bias or nil
        end
    end
end

-- The modules the executable mappings make: one per file and bias.
local function modules()
    local list, keys, seen = {}, {}, {}
    for _, m in ipairs(mappings) do
        local entry, key
        if m.exec and m.image then
            entry, key = { name = m.name, image = m.image }, "image@" .. m.image
        elseif m.exec then
            local bias = bias_of(m)
            if bias then
                entry, key = { name = m.path, path = m.path, bias = bias }, m.path .. "@" .. bias
            end
        end
        if entry and not seen[key] and not broken[key] then
            seen[key] = true
            list[#list + 1], keys[#list + 1] = entry, key
        end
    end
    return list, keys
end

--- Brings C's module list up to date (inside an event): what is mapped
--- already the first time, then only what changed. Returns nil and a
--- reason when the unwinder cannot run.
---@return true|nil ok
---@return string? reason
function modmap.sync()
    if not discovered then
        discovered = true
        modmap.track()
        discover()
    end
    if not changed then return true end
    local list, keys = modules()
    local failures, err = core.unwind_modules(list)
    if not failures then return nil, err end
    for i, reason in pairs(failures) do broken[keys[i]] = reason end
    changed = false
    return true
end

--- Looks for an ELF image no file backs (the vDSO) at or below `addr`, once
--- per page; true when one was found and added.
---@param addr integer
---@return boolean
function modmap.probe(addr)
    local page = page_down(addr)
    if probed[page] or modmap.at(addr) then return false end
    probed[page] = true
    for i = 0, PROBE_PAGES - 1 do
        local at = page - i * PAGE
        local magic = memory.read(at, 4)
        if not magic then return false end
        local soname = magic == "\127ELF" and core.probe_image(at)
        if soname then
            local name = VDSO_NAMES[soname] and "[vdso]"
                         or string.format("[%s@0x%x]", soname ~= "" and soname or "elf", at)
            insert({ start = at, stop = page + PAGE, image = at, name = name, exec = true })
            return true
        end
    end
    return false
end

return modmap
