#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A tick file's bytes at one address for as long as the reader lives: mapped (a backtest: the kernel pages the
/// file in and out) or read whole (a long-running daemon: a mapped file truncated under it would end the process
/// with SIGBUS). The reader walks them through a plain pointer, with no `Data` access per line.
final class TickFileBytes {
    let bytes: UnsafeBufferPointer<UInt8>
    private let mapped: Bool

    init(path: String, mapped: Bool) throws(TickFileError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw TickFileError(errno: errno) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw TickFileError(errno: errno) }
        guard (status.st_mode & S_IFMT) == S_IFREG else { throw TickFileError(errno: EISDIR) }
        let size = Int(status.st_size)
        self.mapped = mapped && size > 0
        if size == 0 {
            bytes = UnsafeBufferPointer(start: nil, count: 0)
        } else if mapped {
            guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), address != MAP_FAILED else {
                throw TickFileError(errno: errno)
            }
            _ = madvise(address, size, MADV_SEQUENTIAL)
            bytes = UnsafeBufferPointer(start: address.assumingMemoryBound(to: UInt8.self), count: size)
        } else {
            let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: size)
            var filled = 0
            while filled < size {
                let count = read(descriptor, buffer.baseAddress! + filled, size - filled)
                if count < 0, errno == EINTR { continue }
                guard count > 0 else {
                    buffer.deallocate()
                    throw count < 0 ? TickFileError(errno: errno) : TickFileError.changedWhileRead
                }
                filled += count
            }
            // A file written to while it was read may end mid-row (a price cut short is another price).
            var after = stat()
            guard fstat(descriptor, &after) == 0, after.st_size == status.st_size, after.st_mtim.tv_sec == status.st_mtim.tv_sec,
                  after.st_mtim.tv_nsec == status.st_mtim.tv_nsec else {
                buffer.deallocate()
                throw TickFileError.changedWhileRead
            }
            bytes = UnsafeBufferPointer(buffer)
        }
    }

    deinit {
        guard let base = bytes.baseAddress else { return }
        if mapped {
            munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        } else {
            base.deallocate()
        }
    }
}

struct TickFileError: Error, CustomStringConvertible {
    /// 0: the file changed while it was being read.
    let errno: Int32
    static let changedWhileRead = TickFileError(errno: 0)
    var description: String { errno == 0 ? "the file changed while it was being read" : String(cString: strerror(errno)) }
}
