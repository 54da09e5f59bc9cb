/*
 * Prints the layout of the structures the kernel exchanges with a guest, as
 * the guest architecture's compiler lays them out (i686-linux-gnu-gcc for
 * i386, aarch64-linux-gnu-gcc for aarch64, ...; one binary per architecture):
 * "NAME FIELD OFFSET SIZE" per field (followed by "NAME FIELD signed" or
 * "NAME FIELD unsigned" for an integer field), then "NAME sizeof SIZE" and
 * "NAME alignof ALIGNMENT" per structure (the alignment matters once a
 * structure is embedded in another or in an array), NAME being
 * luahook._guest.types' name. spec/types_spec.lua compares this with what
 * luahook._guest.types declares through the FFI.
 *
 * Layouts come from the kernel's UAPI headers wherever the kernel defines
 * them there; glibc is used only where the UAPI has no definition:
 *
 *   stat, stat64               <asm/stat.h> (on the 64-bit architectures
 *                              stat64 is stat: the kernel has no separate
 *                              stat64 there)
 *   statfs, statfs64           <asm/statfs.h> (the same: statfs64 is statfs
 *                              on the 64-bit architectures)
 *   statx, statx_timestamp     <linux/stat.h>
 *   timespec, timeval,         <linux/time.h> (struct timespec is the
 *   timezone, itimerspec,      kernel's old timespec: a long tv_sec)
 *   itimerval
 *   timespec64                 <linux/time_types.h> struct __kernel_timespec
 *   utsname                    <linux/utsname.h> struct new_utsname
 *   in_addr, sockaddr_in       <linux/in.h>
 *   in6_addr, sockaddr_in6     <linux/in6.h>
 *   sockaddr_un                <linux/un.h>
 *   sockaddr_storage           <linux/socket.h> __kernel_sockaddr_storage
 *   iovec                      <linux/uio.h>
 *   rlimit, rlimit64, rusage   <linux/resource.h>
 *   pollfd                     <linux/poll.h>
 *   epoll_event                <linux/eventpoll.h>
 *   sockaddr                   glibc <sys/socket.h>: the kernel's generic
 *                              struct sockaddr is not in the UAPI headers;
 *                              glibc's is the same two fields
 *
 * Only <stdio.h>, <stddef.h> and <sys/socket.h> come from glibc, and none of
 * them defines a kernel structure under the same name except struct iovec
 * (through <sys/socket.h>); that one is renamed while glibc's headers are
 * read so <linux/uio.h> can define the kernel's. glibc's <sys/stat.h>,
 * <time.h> and <netinet/in.h> are left out on purpose: they clash with the
 * UAPI definitions (and <sys/stat.h> turns st_atime into a macro).
 */
#include <stddef.h>
#include <stdio.h>

/* glibc's own copies of these kernel structures get other names, and
 * <linux/time.h> is told that no struct timespec exists yet. */
#define iovec glibc_iovec
#define timespec glibc_timespec
#define timeval glibc_timeval
#include <sys/socket.h>
#undef iovec
#undef timespec
#undef timeval
#undef _STRUCT_TIMESPEC

#include <asm/stat.h>
#include <asm/statfs.h>
#include <linux/eventpoll.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/poll.h>
#include <linux/resource.h>
#include <linux/socket.h>
#include <linux/stat.h>
#include <linux/time.h>
#include <linux/time_types.h>
#include <linux/uio.h>
#include <linux/un.h>
#include <linux/utsname.h>

/* "signed" or "unsigned" for an integer (a guest pointer counts as an
 * unsigned integer: luahook._guest.types keeps guest addresses as integers), NULL
 * for arrays and structures. */
#define SIGNEDNESS(x)                                                      \
    _Generic((x), signed char: "signed", short: "signed", int: "signed",   \
             long: "signed", long long: "signed",                          \
             unsigned char: "unsigned", unsigned short: "unsigned",        \
             unsigned int: "unsigned", unsigned long: "unsigned",          \
             unsigned long long: "unsigned", void *: "unsigned",           \
             default: NULL)

#define FIELD(name, type, field)                                     \
    do {                                                             \
        const char *sign = SIGNEDNESS(((type *)0)->field);           \
        printf("%s %s %zu %zu\n", name, #field, offsetof(type, field), \
               sizeof(((type *)0)->field));                          \
        if (sign != NULL) {                                          \
            printf("%s %s %s\n", name, #field, sign);                \
        }                                                            \
    } while (0)
#define SIZE(name, type)                                           \
    printf("%s sizeof %zu\n%s alignof %zu\n", name, sizeof(type), name, \
           _Alignof(type))

/*
 * struct stat's and struct stat64's fields in the order each <asm/stat.h>
 * declares them. Four families: i386 and arm share the old 32-bit
 * layout's field names (and both have a stat64); x86_64 has its own;
 * aarch64 and riscv64 asm-generic's; mips o32 its own, padded. The 64-bit
 * architectures have no stat64: their stat is it.
 */
#if defined(__i386__) || defined(__arm__)
#define STAT_FIELDS(F) F(st_dev) F(st_ino) F(st_mode) F(st_nlink) F(st_uid)      \
    F(st_gid) F(st_rdev) F(st_size) F(st_blksize) F(st_blocks) F(st_atime)     \
    F(st_atime_nsec) F(st_mtime) F(st_mtime_nsec) F(st_ctime) F(st_ctime_nsec) \
    F(__unused4) F(__unused5)
#define STAT64_FIELDS(F) F(st_dev) F(__pad0) F(__st_ino) F(st_mode) F(st_nlink) \
    F(st_uid) F(st_gid) F(st_rdev) F(__pad3) F(st_size) F(st_blksize)           \
    F(st_blocks) F(st_atime) F(st_atime_nsec) F(st_mtime) F(st_mtime_nsec)     \
    F(st_ctime) F(st_ctime_nsec) F(st_ino)
#elif defined(__mips__)
#define STAT_FIELDS(F) F(st_dev) F(st_pad1) F(st_ino) F(st_mode) F(st_nlink)     \
    F(st_uid) F(st_gid) F(st_rdev) F(st_pad2) F(st_size) F(st_pad3)            \
    F(st_atime) F(st_atime_nsec) F(st_mtime) F(st_mtime_nsec) F(st_ctime)      \
    F(st_ctime_nsec) F(st_blksize) F(st_blocks) F(st_pad4)
#define STAT64_FIELDS(F) F(st_dev) F(st_pad0) F(st_ino) F(st_mode) F(st_nlink)  \
    F(st_uid) F(st_gid) F(st_rdev) F(st_pad1) F(st_size) F(st_atime)           \
    F(st_atime_nsec) F(st_mtime) F(st_mtime_nsec) F(st_ctime) F(st_ctime_nsec) \
    F(st_blksize) F(st_pad2) F(st_blocks)
#elif defined(__x86_64__)
#define STAT_FIELDS(F) F(st_dev) F(st_ino) F(st_nlink) F(st_mode) F(st_uid)      \
    F(st_gid) F(__pad0) F(st_rdev) F(st_size) F(st_blksize) F(st_blocks)       \
    F(st_atime) F(st_atime_nsec) F(st_mtime) F(st_mtime_nsec) F(st_ctime)      \
    F(st_ctime_nsec) F(__unused)
#else                           /* asm-generic: aarch64, riscv64 */
#define STAT_FIELDS(F) F(st_dev) F(st_ino) F(st_mode) F(st_nlink) F(st_uid)      \
    F(st_gid) F(st_rdev) F(__pad1) F(st_size) F(st_blksize) F(__pad2)          \
    F(st_blocks) F(st_atime) F(st_atime_nsec) F(st_mtime) F(st_mtime_nsec)     \
    F(st_ctime) F(st_ctime_nsec) F(__unused4) F(__unused5)
#endif
#define STAT_FIELD(field) FIELD(name, T, field);

static void stat_fields(const char *name)
{
    typedef struct stat T;
    STAT_FIELDS(STAT_FIELD)
    SIZE(name, T);
}

static void stat64_fields(void)
{
#ifdef STAT64_FIELDS
    typedef struct stat64 T;
    const char *name = "stat64";
    STAT64_FIELDS(STAT_FIELD)
    SIZE(name, T);
#else
    stat_fields("stat64");
#endif
}

/*
 * struct statfs's and statfs64's fields in the order each <asm/statfs.h>
 * declares them: asm-generic's, or mips' own (f_frsize third, a pad in
 * statfs64). The 64-bit architectures make no statfs64 calls.
 */
#if defined(__mips__)
#define STATFS_FIELDS(F) F(f_type) F(f_bsize) F(f_frsize) F(f_blocks) F(f_bfree)  \
    F(f_files) F(f_ffree) F(f_bavail) F(f_fsid) F(f_namelen) F(f_flags) F(f_spare)
#define STATFS64_FIELDS(F) F(f_type) F(f_bsize) F(f_frsize) F(__pad) F(f_blocks) \
    F(f_bfree) F(f_files) F(f_ffree) F(f_bavail) F(f_fsid) F(f_namelen)        \
    F(f_flags) F(f_spare)
#else
#define STATFS_FIELDS(F) F(f_type) F(f_bsize) F(f_blocks) F(f_bfree) F(f_bavail) \
    F(f_files) F(f_ffree) F(f_fsid) F(f_namelen) F(f_frsize) F(f_flags) F(f_spare)
#if __SIZEOF_LONG__ == 4
#define STATFS64_FIELDS STATFS_FIELDS
#endif
#endif

static void statfs_fields(const char *name)
{
    typedef struct statfs T;
    STATFS_FIELDS(STAT_FIELD)
    SIZE(name, T);
}

static void statfs64_fields(void)
{
#ifdef STATFS64_FIELDS
    typedef struct statfs64 T;
    const char *name = "statfs64";
    STATFS64_FIELDS(STAT_FIELD)
    SIZE(name, T);
#else
    statfs_fields("statfs64");
#endif
}

/* In the order of luahook._guest.types.names(): sorted by name. */
int main(void)
{
    FIELD("epoll_event", struct epoll_event, events);
    FIELD("epoll_event", struct epoll_event, data);
    SIZE("epoll_event", struct epoll_event);

    FIELD("in6_addr", struct in6_addr, s6_addr);
    SIZE("in6_addr", struct in6_addr);

    FIELD("in_addr", struct in_addr, s_addr);
    SIZE("in_addr", struct in_addr);

    FIELD("iovec", struct iovec, iov_base);
    FIELD("iovec", struct iovec, iov_len);
    SIZE("iovec", struct iovec);

    FIELD("itimerspec", struct itimerspec, it_interval);
    FIELD("itimerspec", struct itimerspec, it_value);
    SIZE("itimerspec", struct itimerspec);

    FIELD("itimerval", struct itimerval, it_interval);
    FIELD("itimerval", struct itimerval, it_value);
    SIZE("itimerval", struct itimerval);

    FIELD("pollfd", struct pollfd, fd);
    FIELD("pollfd", struct pollfd, events);
    FIELD("pollfd", struct pollfd, revents);
    SIZE("pollfd", struct pollfd);

    FIELD("rlimit", struct rlimit, rlim_cur);
    FIELD("rlimit", struct rlimit, rlim_max);
    SIZE("rlimit", struct rlimit);

    FIELD("rlimit64", struct rlimit64, rlim_cur);
    FIELD("rlimit64", struct rlimit64, rlim_max);
    SIZE("rlimit64", struct rlimit64);

    FIELD("rusage", struct rusage, ru_utime);
    FIELD("rusage", struct rusage, ru_stime);
    FIELD("rusage", struct rusage, ru_maxrss);
    FIELD("rusage", struct rusage, ru_ixrss);
    FIELD("rusage", struct rusage, ru_idrss);
    FIELD("rusage", struct rusage, ru_isrss);
    FIELD("rusage", struct rusage, ru_minflt);
    FIELD("rusage", struct rusage, ru_majflt);
    FIELD("rusage", struct rusage, ru_nswap);
    FIELD("rusage", struct rusage, ru_inblock);
    FIELD("rusage", struct rusage, ru_oublock);
    FIELD("rusage", struct rusage, ru_msgsnd);
    FIELD("rusage", struct rusage, ru_msgrcv);
    FIELD("rusage", struct rusage, ru_nsignals);
    FIELD("rusage", struct rusage, ru_nvcsw);
    FIELD("rusage", struct rusage, ru_nivcsw);
    SIZE("rusage", struct rusage);

    FIELD("sockaddr", struct sockaddr, sa_family);
    FIELD("sockaddr", struct sockaddr, sa_data);
    SIZE("sockaddr", struct sockaddr);

    FIELD("sockaddr_in", struct sockaddr_in, sin_family);
    FIELD("sockaddr_in", struct sockaddr_in, sin_port);
    FIELD("sockaddr_in", struct sockaddr_in, sin_addr);
    FIELD("sockaddr_in", struct sockaddr_in, sin_zero);
    SIZE("sockaddr_in", struct sockaddr_in);

    FIELD("sockaddr_in6", struct sockaddr_in6, sin6_family);
    FIELD("sockaddr_in6", struct sockaddr_in6, sin6_port);
    FIELD("sockaddr_in6", struct sockaddr_in6, sin6_flowinfo);
    FIELD("sockaddr_in6", struct sockaddr_in6, sin6_addr);
    FIELD("sockaddr_in6", struct sockaddr_in6, sin6_scope_id);
    SIZE("sockaddr_in6", struct sockaddr_in6);

    FIELD("sockaddr_storage", struct __kernel_sockaddr_storage, ss_family);
    FIELD("sockaddr_storage", struct __kernel_sockaddr_storage, __data);
    SIZE("sockaddr_storage", struct __kernel_sockaddr_storage);

    FIELD("sockaddr_un", struct sockaddr_un, sun_family);
    FIELD("sockaddr_un", struct sockaddr_un, sun_path);
    SIZE("sockaddr_un", struct sockaddr_un);

    stat_fields("stat");
    stat64_fields();
    statfs_fields("statfs");
    statfs64_fields();

    FIELD("statx", struct statx, stx_mask);
    FIELD("statx", struct statx, stx_blksize);
    FIELD("statx", struct statx, stx_attributes);
    FIELD("statx", struct statx, stx_nlink);
    FIELD("statx", struct statx, stx_uid);
    FIELD("statx", struct statx, stx_gid);
    FIELD("statx", struct statx, stx_mode);
    FIELD("statx", struct statx, __spare0);
    FIELD("statx", struct statx, stx_ino);
    FIELD("statx", struct statx, stx_size);
    FIELD("statx", struct statx, stx_blocks);
    FIELD("statx", struct statx, stx_attributes_mask);
    FIELD("statx", struct statx, stx_atime);
    FIELD("statx", struct statx, stx_btime);
    FIELD("statx", struct statx, stx_ctime);
    FIELD("statx", struct statx, stx_mtime);
    FIELD("statx", struct statx, stx_rdev_major);
    FIELD("statx", struct statx, stx_rdev_minor);
    FIELD("statx", struct statx, stx_dev_major);
    FIELD("statx", struct statx, stx_dev_minor);
    FIELD("statx", struct statx, stx_mnt_id);
    FIELD("statx", struct statx, stx_dio_mem_align);
    FIELD("statx", struct statx, stx_dio_offset_align);
    FIELD("statx", struct statx, __spare3);
    SIZE("statx", struct statx);

    FIELD("statx_timestamp", struct statx_timestamp, tv_sec);
    FIELD("statx_timestamp", struct statx_timestamp, tv_nsec);
    FIELD("statx_timestamp", struct statx_timestamp, __reserved);
    SIZE("statx_timestamp", struct statx_timestamp);

    FIELD("timespec", struct timespec, tv_sec);
    FIELD("timespec", struct timespec, tv_nsec);
    SIZE("timespec", struct timespec);

    FIELD("timespec64", struct __kernel_timespec, tv_sec);
    FIELD("timespec64", struct __kernel_timespec, tv_nsec);
    SIZE("timespec64", struct __kernel_timespec);

    FIELD("timeval", struct timeval, tv_sec);
    FIELD("timeval", struct timeval, tv_usec);
    SIZE("timeval", struct timeval);

    FIELD("timezone", struct timezone, tz_minuteswest);
    FIELD("timezone", struct timezone, tz_dsttime);
    SIZE("timezone", struct timezone);

    FIELD("utsname", struct new_utsname, sysname);
    FIELD("utsname", struct new_utsname, nodename);
    FIELD("utsname", struct new_utsname, release);
    FIELD("utsname", struct new_utsname, version);
    FIELD("utsname", struct new_utsname, machine);
    FIELD("utsname", struct new_utsname, domainname);
    SIZE("utsname", struct new_utsname);
    return 0;
}
