using Mesh.Node.Audit;
using Mesh.Node.Tests.Support;

namespace Mesh.Node.Tests.Audit;

/// <summary>The audit trail rotates by size and age without losing or splitting a line, and reads across its files.</summary>
public sealed class AuditLogTests : IDisposable
{
    private readonly TempDir _dir = new();

    private string[] Files => Directory.GetFiles(_dir.Path, "audit.log*").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    [Fact]
    public async Task Rotation_by_size_under_concurrent_writers_loses_and_splits_no_line_and_reading_spans_the_files()
    {
        var log = new AuditLog(_dir.Path, "n1", new AuditRotation(MaxSize: 2048, MaxAge: TimeSpan.Zero, Keep: 100));
        await Task.WhenAll(Enumerable.Range(0, 4).Select(writer => Task.Run(() =>
        {
            for (var i = 0; i < 100; i++) log.Write("applied", $"m{writer}", i.ToString(), "tester", new string('x', i % 7));
        })));

        Assert.True(Files.Length > 5, string.Join(", ", Files));
        foreach (var file in Files) Assert.True(new FileInfo(Path.Combine(_dir.Path, file)).Length <= 2048, file);
        // Every line in the files is a whole entry, and every entry is there exactly once.
        var lines = Files.SelectMany(f => File.ReadAllLines(Path.Combine(_dir.Path, f))).ToArray();
        Assert.Equal(400, lines.Length);
        var entries = log.Read(since: null, limit: 5000);
        Assert.Equal(400, entries.Length);
        Assert.Equal(400, entries.Select(e => (e.Manifest, e.Version)).Distinct().Count());
        // Oldest first across the files, and each writer's lines in the order it wrote them.
        for (var writer = 0; writer < 4; writer++)
            Assert.Equal(Enumerable.Range(0, 100).Select(i => i.ToString()), entries.Where(e => e.Manifest == $"m{writer}").Select(e => e.Version));
        Assert.True(entries.Zip(entries.Skip(1)).All(p => p.First.Time <= p.Second.Time));
    }

    [Fact]
    public void Only_the_newest_files_are_kept()
    {
        var log = new AuditLog(_dir.Path, "n1", new AuditRotation(MaxSize: 300, MaxAge: TimeSpan.Zero, Keep: 2));
        for (var i = 0; i < 20; i++) log.Write("applied", "motd", i.ToString(), "tester", new string('x', 100));

        Assert.Equal(new[] { "audit.log", "audit.log.1", "audit.log.2" }, Files);
        var entries = log.Read(since: null, limit: 100);
        Assert.Equal("19", entries[^1].Version);
        Assert.Equal(Enumerable.Range(20 - entries.Length, entries.Length).Select(i => i.ToString()), entries.Select(e => e.Version));
    }

    [Fact]
    public void A_file_whose_first_line_is_older_than_the_limit_is_rotated_at_the_next_line()
    {
        var old = DateTimeOffset.UtcNow.AddDays(-31);
        File.WriteAllText(Path.Combine(_dir.Path, "audit.log"),
            $$"""{"time":"{{old:O}}","node":"n1","kind":"applied","manifest":"motd","version":"1","who":"t","detail":""}""" + "\n");
        var log = new AuditLog(_dir.Path, "n1", new AuditRotation(MaxSize: 1 << 20, MaxAge: TimeSpan.FromDays(30), Keep: 3));

        log.Write("applied", "motd", "2", "tester", "");

        Assert.Equal(new[] { "audit.log", "audit.log.1" }, Files);
        Assert.Equal(new[] { "1", "2" }, log.Read(since: null, limit: 10).Select(e => e.Version));
    }

    [Fact]
    public void The_decision_never_rotates_an_empty_file_and_ignores_age_when_it_is_zero()
    {
        var rotation = new AuditRotation(MaxSize: 100, MaxAge: TimeSpan.Zero, Keep: 1);
        var now = DateTimeOffset.UtcNow;
        Assert.False(rotation.Due(0, 500, null, now));
        Assert.False(rotation.Due(50, 50, now.AddYears(-1), now));
        Assert.True(rotation.Due(50, 51, now, now));
    }

    public void Dispose() => _dir.Dispose();
}
