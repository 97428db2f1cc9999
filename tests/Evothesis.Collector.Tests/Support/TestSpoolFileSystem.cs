using Evothesis.Collector.Spool.Internal;
using Microsoft.Win32.SafeHandles;

namespace Evothesis.Collector.Tests.Support;

/// <summary>
/// The real file operations, counted, with a switch that makes them fail like a broken disk and a gate that holds
/// one flush until the test releases it.
/// </summary>
internal sealed class TestSpoolFileSystem : ISpoolFileSystem
{
    private static readonly TimeSpan HoldLimit = TimeSpan.FromSeconds(10);

    private readonly PhysicalSpoolFileSystem _inner = PhysicalSpoolFileSystem.Instance;
    private int _flushes;
    private int _directoryFlushes;
    private int _holdNext;
    private TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ManualResetEventSlim _release = new(true);

    /// <summary>Gets or sets the error writes, flushes and opens for writing throw; null for none.</summary>
    public Exception? Failure { get; set; }

    /// <summary>Gets or sets the free disk space reported; null for the real figure.</summary>
    public long? FreeSpace { get; set; }

    public int Flushes => Volatile.Read(ref _flushes);

    public int DirectoryFlushes => Volatile.Read(ref _directoryFlushes);

    /// <summary>Makes the next flush wait for <see cref="ReleaseFlush"/>; the task completes once it waits.</summary>
    public Task HoldNextFlush()
    {
        _entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _release = new ManualResetEventSlim(false);
        Volatile.Write(ref _holdNext, 1);
        return _entered.Task;
    }

    public void ReleaseFlush() => _release.Set();

    public void CreateDirectory(string path)
    {
        ThrowIfFailing();
        _inner.CreateDirectory(path);
    }

    public SafeFileHandle OpenForWrite(string path, FileMode mode)
    {
        ThrowIfFailing();
        return _inner.OpenForWrite(path, mode);
    }

    public void Write(SafeFileHandle file, ReadOnlySpan<byte> data, long fileOffset)
    {
        ThrowIfFailing();
        _inner.Write(file, data, fileOffset);
    }

    public void Flush(SafeFileHandle file)
    {
        if (Interlocked.Exchange(ref _holdNext, 0) == 1)
        {
            _entered.TrySetResult();
            if (!_release.Wait(HoldLimit))
            {
                throw new TimeoutException("The test never released the held flush.");
            }
        }

        ThrowIfFailing();
        Interlocked.Increment(ref _flushes);
        _inner.Flush(file);
    }

    public void FlushDirectory(string path)
    {
        ThrowIfFailing();
        Interlocked.Increment(ref _directoryFlushes);
        _inner.FlushDirectory(path);
    }

    public void SetLength(SafeFileHandle file, long length)
    {
        ThrowIfFailing();
        _inner.SetLength(file, length);
    }

    public void Move(string source, string destination)
    {
        ThrowIfFailing();
        _inner.Move(source, destination);
    }

    public void Delete(string path) => _inner.Delete(path);

    public long GetAvailableFreeSpace(string path) => FreeSpace ?? _inner.GetAvailableFreeSpace(path);

    private void ThrowIfFailing()
    {
        if (Failure is { } failure)
        {
            throw failure;
        }
    }
}
