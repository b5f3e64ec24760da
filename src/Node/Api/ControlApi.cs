using System.Text.Json;
using Mesh.Protocol.Api;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Versioning;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
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
        // A query value that does not bind (?limit=abc, a missing ?to=) throws, so that the
        // refusal below can say which parameter, instead of an empty 400.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        var app = builder.Build();
        app.Use(RefusalsAsApiErrors(app.Logger));
        app.UseStatusCodePages(EmptyAnswerAsApiError);
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
    }

    /// <summary>
    /// Every refusal the framework makes itself becomes an <see cref="ApiError"/> too: a request
    /// it could not bind (400, naming the parameter), and an exception no endpoint expected
    /// (logged; 503 when the node's own actors did not answer in time, else 500).
    /// </summary>
    private static Func<HttpContext, RequestDelegate, Task> RefusalsAsApiErrors(ILogger log) => async (context, next) =>
    {
        try
        {
            await next(context);
        }
        catch (BadHttpRequestException e) when (!context.Response.HasStarted)
        {
            await WriteErrorAsync(context, e.StatusCode, e.Message);
        }
        catch (Akka.Actor.AskTimeoutException e) when (!context.Response.HasStarted)
        {
            log.LogWarning(e, "{Method} {Path}: the node did not answer in time", context.Request.Method, context.Request.Path);
            await WriteErrorAsync(context, 503, "the node did not answer in time (overloaded?); retry");
        }
        catch (Exception e) when (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
        {
            log.LogError(e, "{Method} {Path} failed", context.Request.Method, context.Request.Path);
            await WriteErrorAsync(context, 500, $"internal error ({e.GetType().Name}: {e.Message}); the node's log has the details");
        }
    };

    /// <summary>An answer with an error status and no body (no route, wrong method, …) gets an <see cref="ApiError"/> that says why.</summary>
    private static Task EmptyAnswerAsApiError(StatusCodeContext status)
    {
        var context = status.HttpContext;
        var code = context.Response.StatusCode;
        var request = $"{context.Request.Method} {context.Request.Path}";
        return WriteErrorAsync(context, code, code switch
        {
            404 => $"no such endpoint: {request}; the API lives under /v1/",
            405 => $"{request}: method not allowed; this endpoint takes {context.Response.Headers.Allow}",
            _ => $"{request}: {code} {ReasonPhrases.GetReasonPhrase(code)}",
        });
    }

    private static Task WriteErrorAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new ApiError(message), ApiJson.Options);
    }

    /// <summary>Turns the failures a request can meet (bad manifests, refusals, an unavailable body, a store timeout) into answers that say what happened.</summary>
    private static async Task<IResult> Guarded(Func<Task<IResult>> handle)
    {
        try
        {
            return await handle();
        }
        catch (ManifestException e)
        {
            return Results.Json(new ApiError($"{e.Errors.Count} error(s) in the manifests; nothing was pushed", e.Errors.ToArray()),
                ApiJson.Options, statusCode: 422);
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
            return Error(503, "the node's replicated store did not answer in time (node overloaded?); nothing was announced, retry the request");
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
        if (Incomplete(push) is { } missing) return Error(400, $"request body is not a push: {missing}");
        return await Guarded(() => handle(push));
    }

    /// <summary>What a push body leaves null that the node needs (JSON's null gets past the types).</summary>
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

    private static IResult Json<T>(T value) => Results.Json(value, ApiJson.Options);

    private static IResult Error(int status, string message) => Results.Json(new ApiError(message), ApiJson.Options, statusCode: status);
}
