namespace Mesh.Node.Audit;

/// <summary>
/// When the audit trail starts a new file (<c>mesh.audit { max-size, max-age, keep }</c>): once
/// the current file would grow past <see cref="MaxSize"/> with the next line, or its first line
/// is older than <see cref="MaxAge"/>. <see cref="Keep"/> old files are kept, <c>audit.log.1</c>
/// the newest; the oldest beyond them is deleted.
/// </summary>
/// <param name="MaxAge">zero: no limit by age</param>
public sealed record AuditRotation(long MaxSize, TimeSpan MaxAge, int Keep)
{
    public static readonly AuditRotation Default = new(64L * 1024 * 1024, TimeSpan.FromDays(30), 10);

    /// <summary>
    /// Whether to rotate before appending <paramref name="incoming"/> bytes to a file of
    /// <paramref name="size"/> bytes whose first line was written at <paramref name="started"/>.
    /// An empty file is never rotated, so a line larger than the limit still gets written.
    /// </summary>
    public bool Due(long size, long incoming, DateTimeOffset? started, DateTimeOffset now) =>
        size > 0 && (size + incoming > MaxSize || (MaxAge > TimeSpan.Zero && started is { } s && now - s >= MaxAge));

    /// <summary>The trail's files, oldest first: <c>audit.log.Keep</c> … <c>audit.log.1</c>, then <paramref name="current"/>.</summary>
    public IEnumerable<string> Files(string current) =>
        Enumerable.Range(1, Keep).Reverse().Select(n => Old(current, n)).Append(current);

    /// <summary>The <paramref name="n"/>th old file, 1 being the newest.</summary>
    public static string Old(string current, int n) => $"{current}.{n}";
}
