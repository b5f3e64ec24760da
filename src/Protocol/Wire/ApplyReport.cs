using Mesh.Protocol.Versioning;

namespace Mesh.Protocol.Wire;

/// <summary>What a node did with one revision: goes into the replicated status map and onto the report topic.</summary>
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
    DateTimeOffset Time)
{
    public bool Succeeded => Outcome == ApplyOutcome.Ok;
}

public enum ApplyOutcome { Ok, Failed }

/// <summary>One resource's part of an apply.</summary>
public sealed record ResourceResult(string Id, string Kind, ResourceAction Action, string? Message, long DurationMs);

public enum ResourceAction { Unchanged, Created, Changed, Removed, Failed, Skipped }
