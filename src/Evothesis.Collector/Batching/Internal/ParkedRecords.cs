using Evothesis.Collector.Spool.Internal;

namespace Evothesis.Collector.Batching.Internal;

/// <summary>
/// One consumer's parked records: <c>{spool}/parked/{consumer}/</c>, one <see cref="ParkedRecordFile"/> per park.
/// Written through the spool's file operations (file and folder fsynced) before the consumer's cursor moves past the
/// records; deleted only by <c>evothesis-replay</c> once the sink took all of a file.
/// </summary>
internal sealed class ParkedRecords
{
    /// <summary>The folder beside the spool's files that holds every consumer's parked records.</summary>
    public const string FolderName = "parked";

    private readonly ISpoolFileSystem _files;
    private readonly Lock _countLock = new();

    // Guarded by _countLock: the count, and the folder's last write time it was taken at (a replay in another process
    // deletes files; the folder's time changes with every entry added or removed).
    private DateTime _countedAt = DateTime.MinValue;
    private ParkedCount _count;

    public ParkedRecords(string spoolPath, string consumer, ISpoolFileSystem files)
    {
        Folder = Path.Combine(spoolPath, FolderName, consumer);
        _files = files;
    }

    /// <summary>Gets the folder.</summary>
    public string Folder { get; }

    /// <summary>Writes records to a new parked file and makes it durable (file, then folder).</summary>
    /// <returns>The file's path.</returns>
    public string Park(ParkedRecordInfo info, IReadOnlyList<SpoolRecord> records)
    {
        ArgumentOutOfRangeException.ThrowIfZero(records.Count);
        var bytes = ParkedRecordFile.Encode(info, records);
        var target = Path.Combine(Folder, ParkedRecordFile.FileName(records[0].Position));
        var temporary = target + SpoolFormat.TemporaryExtension;
        _files.CreateDirectory(Folder);
        using (var file = _files.OpenForWrite(temporary, FileMode.Create))
        {
            _files.Write(file, bytes, 0);
            _files.Flush(file);
        }

        _files.Move(temporary, target);
        _files.FlushDirectory(Folder);
        lock (_countLock)
        {
            // The folder's time may not have moved within the file system's clock tick: count again next time.
            _countedAt = DateTime.MinValue;
        }

        return target;
    }

    /// <summary>Gets the files, records and events parked now; reads the folder again only when it changed.</summary>
    public ParkedCount Count()
    {
        lock (_countLock)
        {
            DateTime changed;
            try
            {
                changed = Directory.Exists(Folder) ? Directory.GetLastWriteTimeUtc(Folder) : DateTime.MinValue;
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                return _count;
            }

            if (changed == _countedAt && changed != DateTime.MinValue)
            {
                return _count;
            }

            var count = default(ParkedCount);
            foreach (var path in List())
            {
                try
                {
                    var info = ParkedRecordFile.ReadInfo(path);
                    count = new ParkedCount(count.Files + 1, count.Records + info.Positions.Count, count.Events + info.Events);
                }
                catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or InvalidDataException)
                {
                    // Deleted meanwhile by a replay, or not readable: still a parked file someone must look at.
                    count = count with { Files = count.Files + 1 };
                }
            }

            _countedAt = changed;
            _count = count;
            return count;
        }
    }

    /// <summary>Lists the parked files, oldest records first.</summary>
    public IReadOnlyList<string> List() => List(Folder);

    /// <summary>Lists the parked files of a folder, oldest records first (their names are their first record's position).</summary>
    public static IReadOnlyList<string> List(string folder)
    {
        if (!Directory.Exists(folder))
        {
            return [];
        }

        var files = Directory.GetFiles(folder, "*" + ParkedRecordFile.Extension);
        Array.Sort(files, StringComparer.Ordinal);
        return files;
    }
}

/// <summary>What a consumer has parked.</summary>
internal readonly record struct ParkedCount(int Files, long Records, long Events);
