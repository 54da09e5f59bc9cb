-- Output of several threads and processes in the order its events happen,
-- for scripts that print as strace does: a call's start at its entry, the
-- rest of the line at its return, and " <unfinished ...>" then
-- "<... NAME resumed>" when another line comes between.
--
-- Threads of one process share its Lua state and luahook's buffered
-- output stream, which keeps their lines in order by itself. Processes
-- made by fork each have their own state and buffer, yet write to the
-- same file. What they must agree on lives in one page of memory mapped
-- shared before the guest runs, so every process forked from the first
-- has it: which thread has a line open (written without its end), how
-- many processes are alive, and a mutex. While one process is alive,
-- output is buffered as usual. While several are, each event's text is
-- written out under the mutex at once, so the file gets it in the order
-- the events happened, and no line is cut by another process's.
--
-- A process counts from its parent's fork (counted at the fork's entry,
-- before the child can run) until it exits, dies of a signal luahook sees
-- (on_exit), or execs a program that runs without luahook (follow_exec=0;
-- the caller says so: leave). One killed by SIGKILL is never subtracted:
-- the others then keep writing at once, which is slower, never wrong.
--
-- A program a followed exec starts is the same process, still counted: its
-- own order.start attaches the same page again. The page is a System V
-- shared memory segment, found by its id (lh.inherited carries it across
-- the exec, with a cookie that tells it from another segment given the id
-- since): such a segment needs no descriptor in the guest's table, and,
-- marked for removal at once, is gone with the last process attached.
-- Should the exec'ing process have been the last, the new program makes
-- a page of its own (alone, it orders nothing), knowing whether the run's
-- first text was written.
--
-- With parallel=1 each thread has a Lua state of its own, all writing to
-- the one buffered stream of the process. They use the page the main
-- state mapped (its address, found through lh.shared: one address space).
-- Once the process has a second thread, a text is made in the thread's own
-- buffer and then placed (lh_output_place): stamped, it waits in a ring of
-- the thread's until C merges the rings in stamp order, deciding then what
-- goes before each text by the rule above, from the page's open line. So
-- threads making texts at once share no lock and no memory. A text that
-- continues a line is made in one form only, its rest; the other form's
-- start ("<... read resumed>") is given along, as is a text's separator
-- (one form if it is the run's first text, one if not). While other
-- processes are alive too, the page's mutex is taken and each text written
-- out at once, as without parallel=1. The second thread is counted from
-- its clone's entry (a flag in C, for every state), before it can write.
local bit = require "bit"
local ffi = require "ffi"
local lh = require "luahook"
local clock = require "luahook.clock"
local context = require "luahook._core.context"
local memory = require "luahook._guest.memory"
local tasks = require "luahook.tasks"

-- Own names for the C symbols (asm labels), so these declarations never
-- clash with another module's. pthread_mutex_t is at most 48 bytes in
-- every glibc; the attribute at most 8.
ffi.cdef [[
struct lh_order_page {
    union { char bytes[64]; int64_t align; } mutex;
    int32_t open_tid;
    int32_t open_serial;
    int32_t processes;
    int32_t started;
    uint64_t cookie;
};
int lh_order_shmget(int key, size_t size, int flags) __asm__("shmget");
void *lh_order_shmat(int id, const void *addr, int flags) __asm__("shmat");
int lh_order_shmdt(const void *addr) __asm__("shmdt");
int lh_order_shmctl(int id, int cmd, void *buf) __asm__("shmctl");
int lh_order_mutexattr_init(void *attr) __asm__("pthread_mutexattr_init");
int lh_order_mutexattr_setpshared(void *attr, int shared) __asm__("pthread_mutexattr_setpshared");
int lh_order_mutexattr_setrobust(void *attr, int robust) __asm__("pthread_mutexattr_setrobust");
int lh_order_mutex_init(void *mutex, const void *attr) __asm__("pthread_mutex_init");
int lh_order_mutex_lock(void *mutex) __asm__("pthread_mutex_lock");
int lh_order_mutex_trylock(void *mutex) __asm__("pthread_mutex_trylock");
int lh_order_mutex_consistent(void *mutex) __asm__("pthread_mutex_consistent");
int lh_order_mutex_unlock(void *mutex) __asm__("pthread_mutex_unlock");
]]

local C = ffi.C
local IPC_PRIVATE, IPC_CREAT_0600, IPC_RMID = 0, 0x380, 0
local PTHREAD_PROCESS_SHARED, PTHREAD_MUTEX_ROBUST = 1, 1
local EOWNERDEAD = 130
local CLONE_THREAD = 0x10000
local UNFINISHED = " <unfinished ...>\n"

local out = lh.out
local flush = context.core.flush

-- The page with System V id `id`, attached, or nil.
local function attach(id)
    local p = C.lh_order_shmat(id, nil, 0)
    if ffi.cast("intptr_t", p) == -1 then return nil end
    return ffi.cast("struct lh_order_page *", p)
end

-- A new page (and its id), shared with every process forked from this one.
local function new_page()
    local id = C.lh_order_shmget(IPC_PRIVATE, ffi.sizeof("struct lh_order_page"), IPC_CREAT_0600)
    local page = id >= 0 and attach(id)
    if id >= 0 then C.lh_order_shmctl(id, IPC_RMID, nil) end
    if not page then
        error("luahook.order: cannot make a page shared with forked processes", 3)
    end
    -- this process and this instant: no other segment has both
    page.cookie = ffi.new("uint64_t", lh.pid()) * 2 ^ 32 + math.floor(clock.now() * 1e9) % 2 ^ 32
    local attr = ffi.new("int64_t[2]")
    C.lh_order_mutexattr_init(attr)
    C.lh_order_mutexattr_setpshared(attr, PTHREAD_PROCESS_SHARED)
    -- a process killed while holding it must not stop the others
    C.lh_order_mutexattr_setrobust(attr, PTHREAD_MUTEX_ROBUST)
    if C.lh_order_mutex_init(page.mutex, attr) ~= 0 then
        error("luahook.order: cannot make a mutex shared with forked processes", 3)
    end
    page.processes = 1
    return page, id
end

-- lh.inherited's key: "ID COOKIE STARTED" of the page, for a followed exec.
local PAGE_KEY = "order.page"

-- The page a followed exec left this process, attached again, or nil;
-- and whether the run's first text was written.
local function inherited_page()
    local text = lh.inherited[PAGE_KEY]
    local id, cookie, started = (text or ""):match("^(%d+) (%d+) ([01])$")
    if not id then return nil, nil, false end
    local page = attach(tonumber(id))
    if page and tostring(page.cookie):match("^%d+") ~= cookie then
        C.lh_order_shmdt(page)   -- another segment, given the id since
        page = nil
    end
    return page, tonumber(id), started == "1"
end

-- The page, once order.start() has mapped it; this process's count of the
-- lines it opened; what to run when the last process leaves.
local page
local serial = 0
local on_last = false
-- Which thread's line is open: while this process is alone, in a table of
-- its own (cheaper to reach than the page); while several are, in the
-- page. `state` is the one in use.
local own = { open_tid = 0, open_serial = 0 }
local state = own

-- Whether this process holds the mutex: a hook cut short while it did (an
-- error, an interrupt, os.exit) lets it go as it unwinds (order.start), or
-- this process's next text, or its exit, would wait for itself.
local held = false

-- Tries before sleeping: the holder is usually writing a line on another
-- core (threads of one process with parallel=1), and a futex sleep per
-- hand-over made four threads' trace slower by a fifth.
local SPINS = 100
local function lock()
    local got = C.lh_order_mutex_trylock(page.mutex)
    local spins = SPINS
    while got ~= 0 and got ~= EOWNERDEAD and spins > 0 do
        spins = spins - 1
        got = C.lh_order_mutex_trylock(page.mutex)
    end
    if got ~= 0 and got ~= EOWNERDEAD then
        got = C.lh_order_mutex_lock(page.mutex)
    end
    if got == EOWNERDEAD then
        C.lh_order_mutex_consistent(page.mutex)
    end
    held = true
end

local function unlock()
    held = false
    C.lh_order_mutex_unlock(page.mutex)
end

-- Moves the open line's owner to where `to` says, the page or own.
local function move_state(to)
    if state ~= to then
        to.open_tid, to.open_serial = state.open_tid, state.open_serial
        state = to
    end
end

-- Starts writing one event's text: while several processes are alive,
-- takes the mutex and returns true; with parallel=1 and several threads
-- in this process alone, DEFERRED: the text is placed once made (place).
-- Only this process's forks make it one of several, so while alone it
-- need not look at the page.
local DEFERRED = 2
local parallel = lh.shared.parallel
local several_states = ffi.cast("int *", context.core.several_states)
local calls = context.calls
local function begin()
    if parallel and several_states[0] ~= 0 then
        move_state(page)
        if page.processes == 1 then
            return DEFERRED
        end
        lock()
        flush()   -- the texts placed before: the page then says whose line is open
        return true
    end
    if state == own then
        return false
    end
    if page.processes == 1 then
        move_state(own)   -- the others have gone: alone again
        return false
    end
    lock()
    return true
end

-- Ends what begin() started (unless DEFERRED): writes the text out at once
-- and releases the mutex.
local function finish(locked)
    if locked then
        flush()
        unlock()
    end
end

-- A DEFERRED text's leads, and the line it continues (continue_line's
-- thread and number; 0 for a text that starts something new).
local lead_first, lead = "", ""
local cont_tid, cont_number = 0, 0

-- Places a DEFERRED text, made in this thread's buffer, for C to write
-- in its place (lh_output_place): at once, and under the mutex, should a
-- fork have been counted since begin().
local place_text = calls.place
local function place(tid, opens)
    local several = page.processes ~= 1
    if several then lock() end
    place_text(tid, cont_tid, cont_number, opens, lead_first, #lead_first, lead, #lead, several)
    if several then
        flush()
        unlock()
    end
end

-- Ends the open line, if any, with " <unfinished ...>": another line
-- comes now.
local function interrupt()
    if state.open_tid ~= 0 then
        out(UNFINISHED)
        state.open_tid = 0
    end
end

-- Counts a process more: this one's child, or this one again.
local function count_in()
    lock()
    page.processes = page.processes + 1
    if page.processes > 1 then move_state(page) end
    unlock()
end

local order = {}

-- lh.shared's key: the page's address, its id and cookie (parallel=1).
local SHARED_KEY = "luahook.order.page"

--- Starts ordering output: maps the shared page (in a program a followed
--- exec started, the one its process had) and follows the guest's forks,
--- exits and followed execs (those left to QEMU are the caller's to
--- report: leave, rejoin). Call it once, while the script loads (before
--- the guest runs), and before registering the hooks that print.
function order.start()
    local id, started
    local main = parallel and lh.shared.get(SHARED_KEY)
    if main then
        -- a thread's state: the main state's page, already counted; whose
        -- line is open is the page's from the start (this state's own,
        -- empty, would hide the main thread's open clone line)
        local address
        address, id = main:match("^(%d+) (.*)$")
        page = ffi.cast("struct lh_order_page *", ffi.cast("uintptr_t", tonumber(address)))
        state = page
    else
        page, id, started = inherited_page()
        if page then
            -- the page says whose line is open, perhaps another process's
            -- started while this one exec'd: take it as it is, not this
            -- new image's empty own state
            if page.processes > 1 then state = page end
        else
            page, id = new_page()
            page.started = started and 1 or 0
        end
        if parallel then
            lh.shared.set(SHARED_KEY, tostring(ffi.cast("uintptr_t", page)):match("^%d+") .. " " .. id)
            -- where texts placed by several threads find whose line is open
            local base = ffi.cast("char *", page)
            local function field(name)
                return ffi.cast("int32_t *", base + ffi.offsetof("struct lh_order_page", name))
            end
            calls.order_use(field("open_tid"), field("open_serial"), field("started"), UNFINISHED)
        end
    end
    context.on_unwind(function()
        if held then unlock() end
    end)
    local makers = tasks.fork_calls()
    -- a process is counted before it exists, so that neither it nor its
    -- parent ever writes as if alone while the other runs
    lh.on(makers, function(sc)
        local flags = 0
        if sc.name == "clone" then
            flags = sc.args[1]
        elseif sc.name == "clone3" then
            flags = memory.int(sc.args[1], "u32") or 0
        end
        if bit.band(flags, CLONE_THREAD) == 0 then
            sc.order_counted = true
            count_in()
        elseif parallel then
            several_states[0] = 1   -- for good: a failed clone costs only speed
        end
    end)
    lh.after(makers, function(sc, ret)
        if sc.order_counted and ret < 0 then
            lock()
            page.processes = page.processes - 1
            unlock()
        end
    end)
    lh.on_exit(function(how)
        if how == "thread" then
            -- one state of several in this process (parallel=1): the process goes on
            return
        elseif how == "exec" then
            -- the process goes on in the new program, which attaches the page again
            flush()
            lh.inherited[PAGE_KEY] = string.format("%d %s %d", id,
                                                   tostring(page.cookie):match("^%d+"), page.started)
        else
            order.leave()
        end
    end)
end

--- Before an event's text that starts something new (a line, a line's
--- start, a JSON object): ends the open line, if another's, and writes
--- `first` if no text of the run was written yet, else `other` (a
--- separator, say), if given. With parallel=1 all this may be decided
--- only once the text is made and placed, in the order of events. Returns
--- what the call after the text (opened, ended) needs.
---@param first string|nil
---@param other string|nil
---@return boolean|integer
function order.new_text(first, other)
    local locked = begin()
    if locked == DEFERRED then
        lead_first, lead, cont_tid, cont_number = first or "", other or "", 0, 0
        return locked
    end
    interrupt()
    if first then out(order.first() and first or other) end
    return locked
end

--- After a line's start written by thread `tid`: the line is open.
--- Returns the number that tells it from the thread's other lines.
---@param locked boolean|integer what new_text returned
---@param tid integer
---@return integer
function order.opened(locked, tid)
    serial = serial + 1
    if locked == DEFERRED then
        place(tid, serial)
    else
        state.open_tid, state.open_serial = tid, serial
        finish(locked)
    end
    return serial
end

--- After a text that ended its line (or was no line).
---@param locked boolean|integer what new_text or continue_line returned
function order.ended(locked)
    if locked == DEFERRED then
        place(0, 0)
        return
    end
    -- stored only when set: with parallel=1 the page's line is every
    -- thread's, and a store per text made each one wait for its turn
    if state.open_tid ~= 0 then state.open_tid = 0 end
    finish(locked)
end

--- Before the rest of the line `opened` gave `number` for: if that line
--- is no longer open (another text came since), the open line, if any, is
--- ended and the string `resumed(a, b)` returns starts the rest. Returns
--- what ended() needs.
---@param tid integer
---@param number integer
---@param resumed function
---@return boolean|integer
function order.continue_line(tid, number, resumed, a, b)
    local locked = begin()
    if locked == DEFERRED then
        -- whether the line is still open is known where the text is placed
        local text = resumed(a, b)
        lead_first, lead, cont_tid, cont_number = text, text, tid, number
        return locked
    end
    if state.open_tid ~= tid or state.open_serial ~= number then
        interrupt()
        out(resumed(a, b))
    end
    return locked
end

--- Whether this is the first event text of the whole run (of every
--- process); marks it written. For formats that open with a bracket.
---@return boolean
function order.first()
    if page.started == 0 then
        page.started = 1
        return true
    end
    return false
end

--- `fn()` runs in the last process to leave, once the others have
--- written everything: the place to end a file.
---@param fn function
function order.on_last_exit(fn)
    on_last = fn
end

--- This process stops writing: it exits, or execs a program that runs
--- without luahook (`rejoin()` if that fails after all). What it wrote is
--- flushed first.
function order.leave()
    lock()
    flush()
    page.processes = page.processes - 1
    if page.processes == 0 and on_last then
        on_last()
        flush()
    end
    unlock()
end

--- The process writes again after leave(): an exec failed.
function order.rejoin()
    count_in()
end

return order
