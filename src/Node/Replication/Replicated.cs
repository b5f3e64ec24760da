using Akka.DistributedData;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Replication;

/// <summary>
/// The names under which nodes share state. The DData keys are the truth (they also reach
/// late joiners and cover lost announcements); the pub-sub topics are the fast path that
/// tells peers to look now.
/// </summary>
public static class Replicated
{
    /// <summary>Manifest name → head revision record. Last writer by hybrid-logical-clock version wins.</summary>
    public static readonly LWWDictionaryKey<string, RevisionRecord> Index = new("mesh-index");

    /// <summary>"node/manifest" → that node's latest apply report for that manifest.</summary>
    public static readonly LWWDictionaryKey<string, ApplyReport> Status = new("mesh-status");

    /// <summary>Carries each new <see cref="RevisionRecord"/> as it is pushed.</summary>
    public const string ChangeTopic = "mesh.changes";

    /// <summary>Carries each <see cref="ApplyReport"/> as it is made.</summary>
    public const string ReportTopic = "mesh.reports";

    public static string StatusKey(string node, string manifest) => $"{node}/{manifest}";

    /// <summary>The LWW clock for revisions: their hybrid logical version, so every node picks the same winner.</summary>
    public static long RevisionClock(long current, RevisionRecord record) => record.Version.Packed;

    /// <summary>The LWW clock for reports: the version they report on, then the time they were made.</summary>
    public static long ReportClock(long current, ApplyReport report) =>
        Math.Max(current + 1, report.Time.ToUnixTimeMilliseconds());
}
