namespace Mesh.Protocol.Api;

/// <summary>
/// The states a row of <c>GET /v1/status</c> can be in, and its <c>state=</c> filter: a
/// comma-separated list of them (<c>mesh status --failed</c> asks for <c>failed,rejected</c>).
/// </summary>
public static class StatusFilter
{
    public const string Ok = "ok", Pending = "pending", Failed = "failed", Rejected = "rejected";

    public static readonly string[] Known = [Ok, Pending, Failed, Rejected];

    /// <summary>The states a row fails in: what <c>--failed</c> lists.</summary>
    public static readonly string[] Failures = [Failed, Rejected];

    /// <summary>The states of a <c>state=</c> value; null when it names none (no filter).</summary>
    public static string[]? States(string? list) =>
        list?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) is { Length: > 0 } states ? states : null;

    /// <summary>Why a <c>state=</c> value is refused (a state that does not exist), or null.</summary>
    public static string? Refusal(string? list) =>
        States(list)?.FirstOrDefault(s => !Known.Contains(s)) is { } unknown
            ? $"state '{unknown}' is not one of {string.Join(", ", Known)}"
            : null;
}
