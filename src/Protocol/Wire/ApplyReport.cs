using Mesh.Protocol.Versioning;

namespace Mesh.Protocol.Wire;

/// <summary>
/// What a node did with one revision: goes into the replicated status map and onto the report
/// topic. <see cref="Omitted"/> counts resource results left out by <see cref="Compact"/>;
/// <see cref="Drift"/> marks a re-check that found the host changed behind Mesh's back and repaired it.
/// </summary>
public sealed record ApplyReport(
    string Node,
    string Manifest,
    HybridTimestamp Version,
    string Hash,
    ApplyOutcome Outcome,
    int Changed,
    ResourceResult[] Resources,
    string? Error,
    long DurationMs,
    DateTimeOffset Time,
    int Omitted = 0,
    bool Drift = false)
{
    /// <summary>Resource results a shared report lists at most; the rest are counted in <see cref="Omitted"/>.</summary>
    public const int MaxListed = 100;

    /// <summary>Longest message or error text a shared report carries.</summary>
    public const int MaxText = 1000;

    public bool Succeeded => Outcome == ApplyOutcome.Ok;

    /// <summary>
    /// The report as it is shared with the cluster: unchanged resources left out (they are the
    /// bulk of a re-check and say nothing), at most <see cref="MaxListed"/> others, texts
    /// shortened, so a report stays far below a remoting frame whatever the manifest's size.
    /// </summary>
    public ApplyReport Compact()
    {
        var interesting = Resources.Where(r => r.Action != ResourceAction.Unchanged).ToArray();
        var listed = interesting.Take(MaxListed).Select(r => r with { Message = Shorten(r.Message), Detail = Shorten(r.Detail, MaxDetail) }).ToArray();
        return this with
        {
            Resources = listed,
            Error = Shorten(Error),
            Omitted = Omitted + Resources.Length - listed.Length,
        };
    }

    /// <summary>Longest detail (diff, output tail) a shared report carries per resource.</summary>
    public const int MaxDetail = 4000;

    private static string? Shorten(string? text, int max = MaxText) =>
        text is null || text.Length <= max ? text : string.Concat(text.AsSpan(0, max - 1), "…");
}

/// <summary>
/// How an apply ended, or where it stands. <see cref="Rejected"/>: the node refused the revision
/// (its signature) and applied nothing of it. <see cref="Pending"/>: not over yet; the node is
/// still trying to get the revision's body and says why in <see cref="ApplyReport.Error"/>
/// (a slow or absent peer is not a failure until the fetch deadline passes).
/// </summary>
[System.Text.Json.Serialization.JsonConverter(typeof(Api.SnakeCaseEnum<ApplyOutcome>))]
public enum ApplyOutcome { Ok, Failed, Rejected, Pending }

/// <summary>
/// One resource's part of an apply or a plan. <see cref="Detail"/> holds what a person wants to
/// read next: a unified diff of file content, the tail of a command's output.
/// </summary>
public sealed record ResourceResult(string Id, string Kind, ResourceAction Action, string? Message, long DurationMs, string? Detail = null);

[System.Text.Json.Serialization.JsonConverter(typeof(Api.SnakeCaseEnum<ResourceAction>))]
public enum ResourceAction { Unchanged, Created, Changed, Removed, Failed, Skipped }
