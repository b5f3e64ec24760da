using System.Text.Json.Serialization;

namespace Mesh.Protocol.Api;

/// <summary>
/// What a change (push, delete, rollback) waits for before it answers success: <see cref="Local"/>,
/// this node's disk; <see cref="Majority"/> (the default), the body stored by enough other members
/// that, with this node, a majority of the Up members hold it, and the record written with DData's
/// WriteMajority; <see cref="All"/>, every Up member holds both.
/// </summary>
[JsonConverter(typeof(SnakeCaseEnum<AckLevel>))]
public enum AckLevel
{
    Local,
    Majority,
    All,
}

/// <summary>
/// How far a change got before the node answered. <see cref="Reached"/> false: the node accepted it
/// (recorded here, it spreads when the members are back) but the quorum it was asked for did not
/// hold it in time, for <see cref="Reason"/>. <see cref="HeldBy"/>: the other members that confirmed the body.
/// </summary>
public sealed record AckReport(AckLevel Wanted, bool Reached, string[] HeldBy, string? Reason = null);

/// <summary>A revision this node accepted while it could not replicate it, listed by <c>GET /v1/status</c> until a quorum holds it.</summary>
public sealed record UnreplicatedRevision(string Manifest, string Version, AckLevel Wanted, DateTimeOffset Since, string Reason);
