using System.Text.Json.Serialization;
using Mesh.Protocol.Wire;

namespace Mesh.Protocol.Api;

/// <summary>
/// Compile-time JSON metadata of every body of the control API, so that a client compiled ahead
/// of time (the <c>mesh</c> CLI, published with NativeAOT) reads and writes them without
/// reflection. A new request or response body belongs here; <c>ApiJsonContextTests</c> fails for
/// one that is missing.
/// </summary>
[JsonSerializable(typeof(PushRequest))]
[JsonSerializable(typeof(PushResponse))]
[JsonSerializable(typeof(DeleteRequest))]
[JsonSerializable(typeof(AckReport))]
[JsonSerializable(typeof(UnreplicatedRevision[]))]
[JsonSerializable(typeof(ApiError))]
[JsonSerializable(typeof(MemberInfo[]))]
[JsonSerializable(typeof(NodeFactsInfo[]))]
[JsonSerializable(typeof(ManifestSummary[]))]
[JsonSerializable(typeof(ManifestDetail))]
[JsonSerializable(typeof(StatusReport))]
[JsonSerializable(typeof(SeedAnswer))]
[JsonSerializable(typeof(ClockSkew))]
[JsonSerializable(typeof(HistoryEntry[]))]
[JsonSerializable(typeof(RevisionDiff))]
[JsonSerializable(typeof(PlanResponse))]
[JsonSerializable(typeof(MeshEvent))]
[JsonSerializable(typeof(AuditEntry[]))]
[JsonSerializable(typeof(ConvergeAccepted[]))]
[JsonSerializable(typeof(RolloutStatus))]
[JsonSerializable(typeof(RolloutStatus[]))]
[JsonSerializable(typeof(RolloutControlResponse))]
[JsonSerializable(typeof(TaskRequest))]
[JsonSerializable(typeof(TaskView))]
[JsonSerializable(typeof(TaskView[]))]
[JsonSerializable(typeof(Mesh.Protocol.Tasks.TaskOutput))]
[JsonSerializable(typeof(Mesh.Protocol.Tasks.TaskResult))]
public sealed partial class ApiJsonContext : JsonSerializerContext;
