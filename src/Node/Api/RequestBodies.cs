using System.Text.Json;
using Mesh.Protocol.Api;
using Microsoft.AspNetCore.Http;

namespace Mesh.Node.Api;

/// <summary>
/// Reads and checks the JSON bodies of the control API. A body that is not what the route
/// takes, or leaves null what the node needs (JSON's null gets past the types), is a 400
/// (<see cref="BadHttpRequestException"/>) that says what is wrong.
/// </summary>
public static class RequestBodies
{
    public static async Task<PushRequest> PushAsync(HttpRequest request)
    {
        var push = await ReadAsync<PushRequest>(request, "a push");
        if (push?.Manifests is null) throw Refused("a push", "'manifests' is missing");
        if (Incomplete(push) is { } missing) throw Refused("a push", missing);
        return push;
    }

    public static async Task<DeleteRequest> DeletionAsync(HttpRequest request)
    {
        var delete = await ReadAsync<DeleteRequest>(request, "a deletion");
        if (delete?.Parent is null) throw Refused("a deletion", "'parent' (the head you saw) is missing");
        return delete;
    }

    /// <summary>The <c>ack</c> query parameter (<c>local</c>, <c>majority</c>, <c>all</c>); null when absent.</summary>
    public static AckLevel? AckLevelOf(string? ack) => ack switch
    {
        null => null,
        "local" => AckLevel.Local,
        "majority" => AckLevel.Majority,
        "all" => AckLevel.All,
        _ => throw new BadHttpRequestException($"ack '{ack}' is not one of local, majority, all", 400),
    };

    public static async Task<TaskRequest> TaskAsync(HttpRequest request)
    {
        var task = await ReadAsync<TaskRequest>(request, "a task");
        if (task?.Spec is null) throw Refused("a task", "'spec' is missing");
        if (task.Spec.Id is null) throw Refused("a task", "'spec.id' is missing");
        if (task.Spec.Target is null) throw Refused("a task", "'spec.target' is missing (\"\" targets every node)");
        if (task.Spec.Command?.Any(a => a is null) == true) throw Refused("a task", "'spec.command' holds a null; it is a list of strings");
        if (task.Spec.Secrets?.Any(s => s.Value is null) == true) throw Refused("a task", "'spec.secrets' holds a null");
        return task;
    }

    private static async Task<T?> ReadAsync<T>(HttpRequest request, string what)
    {
        try
        {
            return await JsonSerializer.DeserializeAsync<T>(request.Body, ApiJson.Options);
        }
        catch (JsonException e)
        {
            throw Refused(what, e.Message);
        }
    }

    private static BadHttpRequestException Refused(string what, string why) => new($"request body is not {what}: {why}", 400);

    /// <summary>What a push body leaves null that the node needs.</summary>
    private static string? Incomplete(PushRequest push)
    {
        for (var i = 0; i < push.Manifests.Length; i++)
        {
            var file = push.Manifests[i];
            if (file is null) return $"manifests[{i}] is null";
            if (file.File is null) return $"manifests[{i}].file is missing";
            if (file.Text is null) return $"manifests[{i}].text is missing";
            if (file.Attachments?.FirstOrDefault(a => a.Value is null) is { Key: { } attachment })
                return $"manifests[{i}].attachments[\"{attachment}\"] is null";
        }
        if (push.Parents?.FirstOrDefault(p => p.Value is null) is { Key: { } manifest })
            return $"parents[\"{manifest}\"] is null (an empty string names a manifest that should not exist yet)";
        return null;
    }
}
