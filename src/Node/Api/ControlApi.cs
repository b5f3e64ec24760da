using System.Text.Json;
using Mesh.Protocol.Api;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Versioning;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Mesh.Node.Api;

/// <summary>
/// The control API: HTTP+JSON under <c>/v1/</c>, the only door the CLI (and scripts) use.
/// Loopback by default. Every refusal is an <see cref="ApiError"/> body with a 4xx status.
/// </summary>
public static class ControlApi
{
    /// <summary>Largest request body accepted: a push of manifests, inline content included.</summary>
    public const long MaxBodyBytes = ApiJson.MaxBodyBytes;

    public static async Task<WebApplication> StartAsync(MeshNode node)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(node.Settings.Api);
            k.Limits.MaxRequestBodySize = MaxBodyBytes;
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        var app = builder.Build();
        var token = ApiToken.For(node.Settings.Api, node.Settings.DataDir);
        if (token is not null)
            app.Use(async (context, next) =>
            {
                if (ApiToken.Accepts(token, context.Request.Headers.Authorization))
                {
                    await next(context);
                    return;
                }
                context.Response.StatusCode = 401;
                await context.Response.WriteAsJsonAsync(new ApiError(
                    $"this node's control API is not on loopback and requires its token (in {Path.Combine(node.Settings.DataDir, ApiToken.FileName)}; mesh --token-file)"),
                    ApiJson.Options);
            });
        Map(app, node);
        await app.StartAsync();
        return app;
    }

    private static void Map(WebApplication app, MeshNode node)
    {
        var v1 = app.MapGroup("/v1");

        v1.MapGet("/members", () => Json(node.MemberList()));

        v1.MapGet("/manifests", async () =>
        {
            var index = await node.IndexAsync();
            return Json(index.Values.Where(r => !r.Deleted).OrderBy(r => r.Manifest, StringComparer.Ordinal)
                .Select(r => new ManifestSummary(r, node.Targets(r.Target))).ToArray());
        });

        v1.MapGet("/manifests/{name}", (string name, string? revision) => Guarded(async () =>
        {
            var detail = await node.GetAsync(name, revision);
            return detail is null ? Error(404, revision is null ? $"no manifest named '{name}'" : $"{name} has no revision '{revision}' (see mesh history {name})")
                : Json(detail);
        }));

        v1.MapGet("/manifests/{name}/history", async (string name) =>
        {
            var history = await node.HistoryAsync(name);
            if (history.Count == 0) return Error(404, $"no manifest named '{name}'");
            var index = await node.IndexAsync();
            var applied = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            // This node too, when it has not joined (offline, it still applies).
            foreach (var member in node.MemberList().Select(m => m.Name).Append(node.Settings.Name).Distinct())
                if ((await node.ReportsOfAsync(member)).TryGetValue(name, out var report) && report.Succeeded)
                    (applied.TryGetValue(report.Version.ToString(), out var nodes) ? nodes : applied[report.Version.ToString()] = []).Add(member);
            index.TryGetValue(name, out var head);
            var lost = new HashSet<HybridTimestamp>(head is null ? [] : Lineage.LostRevisions(history, head).Select(l => l.Lost.Version));
            return Json(history.Select(r => new HistoryEntry(r, head is not null && head.Version.Equals(r.Version),
                applied.GetValueOrDefault(r.Version.ToString())?.Order(StringComparer.Ordinal).ToArray() ?? [], lost.Contains(r.Version))).ToArray());
        });

        v1.MapPost("/manifests/{name}/rollback", (string name, string to, string? author) => Guarded(async () =>
        {
            var pushed = await node.RollbackAsync(name, to, author);
            return pushed is null ? Error(404, $"{name} has no revision '{to}' (see mesh history {name})") : Json(pushed);
        }));

        v1.MapDelete("/manifests/{name}", (string name, HttpRequest request) => Guarded(async () =>
        {
            DeleteRequest? delete;
            try
            {
                delete = await JsonSerializer.DeserializeAsync<DeleteRequest>(request.Body, ApiJson.Options);
            }
            catch (JsonException e)
            {
                return Error(400, $"request body is not a deletion: {e.Message}");
            }
            if (delete?.Parent is null) return Error(400, "request body is not a deletion: 'parent' (the head you saw) is missing");
            var deleted = await node.DeleteAsync(name, delete);
            return deleted is null ? Error(404, $"no manifest named '{name}'") : Json(new PushResponse([deleted]));
        }));

        v1.MapPost("/push", (HttpRequest request) => WithPush(request, async push => Json(await node.PushAsync(push))));

        v1.MapPost("/plan", (HttpRequest request, int? timeoutSeconds) =>
            WithPush(request, async push => Json(await node.PlanAsync(push, TimeSpan.FromSeconds(Math.Clamp(timeoutSeconds ?? 30, 1, 600))))));

        v1.MapPost("/converge", async ([FromQuery(Name = "node")] string? name) =>
        {
            try
            {
                return Json(await node.ConvergeAsync(name));
            }
            catch (KeyNotFoundException e)
            {
                return Error(404, e.Message);
            }
            catch (Akka.Actor.AskTimeoutException)
            {
                return Error(504, "a node did not answer in time; see mesh members for its reachability");
            }
        });

        v1.MapGet("/audit", async ([FromQuery(Name = "node")] string? name, DateTimeOffset? since, int? limit) =>
        {
            try
            {
                return Json(await node.AuditAsync(name, since, Math.Clamp(limit ?? 1000, 1, 5000)));
            }
            catch (KeyNotFoundException e)
            {
                return Error(404, e.Message);
            }
        });

        v1.MapGet("/status", async (string? manifest) => Json(await node.StatusAsync(manifest)));

        v1.MapGet("/events", async (HttpContext context) =>
        {
            var cancel = context.RequestAborted;
            var response = context.Response;
            response.Headers.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-cache";
            var events = node.Listen(cancel);
            // Flushing the headers tells the client it is subscribed: anything after this is delivered.
            await response.Body.FlushAsync(cancel);
            try
            {
                await foreach (var e in events.ReadAllAsync(cancel))
                {
                    await response.WriteAsync($"event: {e.Kind}\ndata: {JsonSerializer.Serialize(e, ApiJson.Options)}\n\n", cancel);
                    await response.Body.FlushAsync(cancel);
                }
            }
            catch (OperationCanceledException)
            {
                // The client went away.
            }
        });

        app.MapFallback(() => Error(404, "no such endpoint; the API lives under /v1/"));
    }

    /// <summary>Turns the failures a read of the mesh can meet into answers that say what happened.</summary>
    private static async Task<IResult> Guarded(Func<Task<IResult>> handle)
    {
        try
        {
            return await handle();
        }
        catch (Content.BlobUnavailableException e)
        {
            return Error(503, e.Message);
        }
        catch (ArgumentException e)
        {
            return Error(400, e.Message);
        }
        catch (PushConflictException e)
        {
            return Error(409, e.Message);
        }
        catch (PushDeniedException e)
        {
            return Error(403, e.Message);
        }
        catch (BadHttpRequestException e)
        {
            return Error(e.StatusCode, e.Message);
        }
        catch (Akka.Actor.AskTimeoutException)
        {
            return Error(503, "the node's replicated store did not answer in time (node overloaded?); nothing was announced, retry");
        }
    }

    /// <summary>Reads a push body and runs <paramref name="handle"/> on it; malformed bodies and manifests become 4xx answers.</summary>
    private static async Task<IResult> WithPush(HttpRequest request, Func<PushRequest, Task<IResult>> handle)
    {
        PushRequest? push;
        try
        {
            push = await JsonSerializer.DeserializeAsync<PushRequest>(request.Body, ApiJson.Options);
        }
        catch (JsonException e)
        {
            return Error(400, $"request body is not a push: {e.Message}");
        }
        catch (BadHttpRequestException e)
        {
            return Error(e.StatusCode, e.Message);
        }
        if (push?.Manifests is null) return Error(400, "request body is not a push: 'manifests' is missing");
        try
        {
            return await handle(push);
        }
        catch (ManifestException e)
        {
            return Results.Json(new ApiError($"{e.Errors.Count} error(s) in the manifests; nothing was pushed", e.Errors.ToArray()),
                ApiJson.Options, statusCode: 422);
        }
        catch (PushConflictException e)
        {
            return Error(409, e.Message);
        }
        catch (PushDeniedException e)
        {
            return Error(403, e.Message);
        }
        catch (Akka.Actor.AskTimeoutException)
        {
            return Error(503, "the node's replicated store did not answer in time (node overloaded?); nothing was announced, retry the push");
        }
    }

    private static IResult Json<T>(T value) => Results.Json(value, ApiJson.Options);

    private static IResult Error(int status, string message) => Results.Json(new ApiError(message), ApiJson.Options, statusCode: status);
}
