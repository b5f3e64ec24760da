using Mesh.Protocol.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace Mesh.Node.Api;

/// <summary>
/// The route table of <c>/v1/</c>: one line per route, each handler a call into one of the
/// node's operations. Failures are thrown and mapped in one place (<see cref="ApiErrors"/>);
/// request bodies are read by <see cref="RequestBodies"/>, the event stream by <see cref="EventStream"/>.
/// </summary>
public static class Routes
{
    public static void Map(RouteGroupBuilder v1, MeshNode node)
    {
        var (revisions, queries, fleet, tasks) = (node.Revisions, node.Queries, node.Fleet, node.Tasks);

        v1.MapGet("/members", (bool? facts, string? target) => Json(queries.Members(facts ?? false, target)));
        v1.MapGet("/facts", ([FromQuery(Name = "node")] string? name) =>
            queries.Facts(name) is var facts && (facts.Length > 0 || name is null) ? Json(facts) : ApiErrors.Result(404, $"no member named '{name}' (see mesh members)"));
        v1.MapGet("/manifests", async (string? consistency) => consistency is null or "local" or "majority"
            ? Json(await queries.ManifestsAsync(quorum: consistency == "majority"))
            : ApiErrors.Result(400, $"consistency must be local or majority, not '{consistency}'"));
        v1.MapGet("/manifests/{name}", async (string name, string? revision) =>
            await queries.GetAsync(name, revision) is { } detail ? Json(detail)
                : ApiErrors.Result(404, revision is null ? $"no manifest named '{name}'" : $"{name} has no revision '{revision}' (see mesh history {name})"));
        v1.MapGet("/manifests/{name}/history", async (string name) =>
            await queries.HistoryAsync(name) is { Length: > 0 } history ? Json(history) : ApiErrors.Result(404, $"no manifest named '{name}'"));
        v1.MapGet("/manifests/{name}/diff", async (string name, string from, string to) =>
            await queries.DiffAsync(name, from, to) is { } diff ? Json(diff) : ApiErrors.Result(404, $"{name} has no revision '{from}' or no revision '{to}' with content (see mesh history {name})"));
        v1.MapPost("/manifests/{name}/rollback", async (string name, string to, string? author, string? ack) =>
            await revisions.RollbackAsync(name, to, author, RequestBodies.AckLevelOf(ack)) is { } pushed ? Json(pushed)
                : ApiErrors.Result(404, $"{name} has no revision '{to}' (see mesh history {name})"));
        v1.MapDelete("/manifests/{name}", async (string name, HttpRequest request) =>
            await revisions.DeleteAsync(name, await RequestBodies.DeletionAsync(request)) is { } deleted ? Json(deleted)
                : ApiErrors.Result(404, $"no manifest named '{name}'"));
        v1.MapPost("/push", async (HttpRequest request) => Json(await revisions.PushAsync(await RequestBodies.PushAsync(request))));
        v1.MapPost("/plan", async (HttpRequest request, int? timeoutSeconds) =>
            Json(await fleet.PlanAsync(await RequestBodies.PushAsync(request), TimeSpan.FromSeconds(Math.Clamp(timeoutSeconds ?? 30, 1, 600)))));
        v1.MapPost("/converge", async ([FromQuery(Name = "node")] string? name) => Json(await fleet.ConvergeAsync(name)));
        v1.MapGet("/audit", async ([FromQuery(Name = "node")] string? name, DateTimeOffset? since, int? limit) =>
            Json(await fleet.AuditAsync(name, since, Math.Clamp(limit ?? 1000, 1, 5000))));
        v1.MapGet("/status", async (string? manifest, string? node, string? state) =>
            StatusFilter.Refusal(state) is { } refused ? ApiErrors.Result(400, refused)
                : Json(await queries.StatusAsync(manifest, node, StatusFilter.States(state))));
        v1.MapPost("/tasks", async (HttpRequest request) => Json(await tasks.PostAsync(await RequestBodies.TaskAsync(request))));
        v1.MapGet("/tasks", async () => Json(await tasks.ListAsync()));
        v1.MapGet("/tasks/{id}", async (string id) => await tasks.GetAsync(id) is { } view ? Json(view) : ApiErrors.Result(404, $"no task '{id}' (see mesh tasks)"));
        v1.MapPost("/tasks/{id}/cancel", async (string id, string? author) =>
            await tasks.CancelAsync(id, author) is { } view ? Json(view) : ApiErrors.Result(404, $"no task '{id}' (see mesh tasks)"));
        v1.MapGet("/tasks/{id}/output", async (string id, [FromQuery(Name = "node")] string name) => Json(await tasks.OutputAsync(id, name)));
        v1.MapGet("/rollouts", async () => Json(await node.Rollouts.StatusAsync()));
        v1.MapGet("/rollouts/{name}", async (string name) =>
            await node.Rollouts.StatusAsync(name) is { } status ? Json(status) : ApiErrors.Result(404, $"no rollout of '{name}'"));
        v1.MapPost("/rollouts/{name}/{action}", async (string name, string action, string? author) =>
            await node.Rollouts.ControlAsync(name, action, author) is { } done ? Json(done) : ApiErrors.Result(404, $"no rollout of '{name}'"));
        v1.MapGet("/events", (HttpContext context) => EventStream.ServeAsync(context, node.Listen(context.RequestAborted)));
    }

    /// <summary>
    /// The probes, outside <c>/v1/</c> where service managers and load balancers look for them:
    /// <c>/healthz</c> (the process serves and its actor system runs), <c>/readyz</c> (member Up
    /// and caught up with the index; 503 says why not).
    /// </summary>
    public static void MapProbes(IEndpointRouteBuilder root, MeshNode node)
    {
        root.MapGet("/healthz", () => node.Readiness.Alive ? Json(new { alive = true }) : ApiErrors.Result(503, "the actor system has stopped"));
        root.MapGet("/readyz", async () => await node.Readiness.CheckAsync() is var ready && ready.Ready ? Json(ready) : Results.Json(ready, ApiJson.Options, statusCode: 503));
    }

    private static IResult Json<T>(T value) => Results.Json(value, ApiJson.Options);
}
