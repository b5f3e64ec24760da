using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Mesh.Cli.Commands;
using Mesh.Protocol.Api;

namespace Mesh.Cli;

/// <summary>
/// The CLI's JSON: the API's settings with compile-time metadata only (<see cref="ApiJsonContext"/>
/// and the CLI's own <c>--json</c> shapes below), so the CLI runs the same whether it is compiled
/// ahead of time (NativeAOT, as packaged) or run on the JIT (as the tests do): a type missing
/// from the metadata fails in both.
/// </summary>
public static class CliJson
{
    public static readonly JsonSerializerOptions Options = new(ApiJson.Compiled)
    {
        TypeInfoResolver = JsonTypeInfoResolver.Combine(ApiJsonContext.Default, CliJsonContext.Default),
    };

    public static JsonTypeInfo<T> Info<T>() => ApiJson.Info<T>(Options);
}

/// <summary>What the CLI itself prints with <c>--json</c>, beyond the API's bodies.</summary>
[JsonSerializable(typeof(ChangeFollower.ChangeOutcome))]
[JsonSerializable(typeof(CertsCommand.Issued))]
[JsonSerializable(typeof(KeygenCommand.Generated))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
