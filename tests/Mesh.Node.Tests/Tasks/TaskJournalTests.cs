using Mesh.Node.Tasks;

namespace Mesh.Node.Tests.Tasks;

/// <summary>The journal that keeps a task from running twice on a node, read back as a restarted node reads it.</summary>
public sealed class TaskJournalTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mesh-task-journal-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_task_started_and_not_done_is_interrupted_after_a_restart_and_every_recorded_task_stays_known()
    {
        var expires = DateTimeOffset.UtcNow.AddMinutes(10);
        var journal = new TaskJournal(_dir);
        journal.Start("ran", expires);
        journal.Done("ran", expires);
        journal.Start("cut", expires);
        journal.Done("refused", expires);

        var reopened = new TaskJournal(_dir);
        Assert.True(reopened.Knows("ran"));
        Assert.True(reopened.Knows("cut"));
        Assert.True(reopened.Knows("refused"));
        Assert.False(reopened.Knows("new"));
        Assert.Equal(["cut"], reopened.TakeInterrupted().Select(i => i.Id));
        Assert.Empty(reopened.TakeInterrupted());
    }

    [Fact]
    public void A_torn_last_line_is_ignored_and_compaction_forgets_only_settled_tasks_expired_long_ago()
    {
        var journal = new TaskJournal(_dir);
        var old = DateTimeOffset.UtcNow.AddDays(-3);
        journal.Start("old", old);
        journal.Done("old", old);
        journal.Start("old-cut", old);
        journal.Done("fresh", DateTimeOffset.UtcNow.AddMinutes(5));
        File.AppendAllText(Path.Combine(_dir, "tasks", "journal"), "started tor");

        journal.Compact(DateTimeOffset.UtcNow.AddDays(-1));
        var reopened = new TaskJournal(_dir);
        Assert.False(reopened.Knows("old"));
        Assert.True(reopened.Knows("old-cut")); // never settled: still reported interrupted
        Assert.True(reopened.Knows("fresh"));
        Assert.False(reopened.Knows("tor"));
    }
}
