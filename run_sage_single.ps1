# run_sage_single.ps1: Sage as an MCP server on STDIO on Windows, from one container image (PostgreSQL + pgvector +
# sage). The same behaviour as run_sage_single.sh (read its header for the design); register it with
#
#   claude mcp add sage -- powershell -NoProfile -ExecutionPolicy Bypass -File C:\path\to\sage\run_sage_single.ps1
#
# and pass sage commands after it (status, export, hook Stop, ...). Docker Desktop or Podman Desktop; settings are the
# same environment variables as the shell script (README, "Container"). stdout carries only what sage writes.
# Not 'Stop': Windows PowerShell 5.1 turns a native command's stderr into terminating errors under it. Every call's
# exit code is checked instead.
$ErrorActionPreference = 'Continue'

function Fail([string]$message, [int]$code = 1) {
    [Console]::Error.WriteLine("run_sage_single: $message")
    exit $code
}
function Say([string]$message) { [Console]::Error.WriteLine("run_sage_single: $message") }
# Runs the container CLI with its output on stderr (never on stdout, which belongs to JSON-RPC); returns the exit code.
function Invoke-Quiet([string[]]$arguments) {
    & $script:cli @arguments 2>&1 | ForEach-Object { [Console]::Error.WriteLine("$_") }
    return $LASTEXITCODE
}
function Get-Output([string[]]$arguments) {
    $out = & $script:cli @arguments 2>$null
    if ($LASTEXITCODE -ne 0) { return $null }
    return ($out -join "`n").Trim()
}

# ---- settings ---------------------------------------------------------------------------------------------------
$here = $PSScriptRoot
$cli = $env:SAGE_CONTAINER_CLI
if (-not $cli) {
    foreach ($c in 'docker', 'podman') {
        if (Get-Command $c -ErrorAction SilentlyContinue) { $cli = $c; break }
    }
    if (-not $cli) { Fail 'neither docker nor podman is installed: install Docker Desktop or Podman Desktop, or set SAGE_CONTAINER_CLI' }
}
if (-not (Get-Command $cli -ErrorAction SilentlyContinue)) { Fail "SAGE_CONTAINER_CLI=${cli}: no such command" 2 }
# The published image this script runs unless SAGE_IMAGE names another: <registry>/sage:<version>. The registry is
# scripts/image.env's SAGE_REGISTRY and the version lib/version.ts's; this line repeats them so that the script also
# works alone (a copy with no checkout beside it), and `deno task test` fails when they disagree.
$published = 'ghcr.io/sage-memory/sage:0.1.0'
$version = $published.Substring($published.LastIndexOf(':') + 1)
$registry = if ($env:SAGE_REGISTRY) { $env:SAGE_REGISTRY } else { $published.Substring(0, $published.LastIndexOf('/sage:')) }
$image = if ($env:SAGE_IMAGE) { $env:SAGE_IMAGE } else { "$registry/sage:$version" }
$buildFlag = if ($env:SAGE_BUILD) { $env:SAGE_BUILD } else { '0' }
if ($buildFlag -notin @('0', '1')) { Fail "SAGE_BUILD=${buildFlag}: use 1 to build the image from this folder instead of pulling it" 2 }
$volume = if ($env:SAGE_VOLUME) { $env:SAGE_VOLUME } else { 'sage-data' }
if ($volume -notmatch '^[A-Za-z0-9][A-Za-z0-9_.-]*$') {
    Fail "SAGE_VOLUME=`"$volume`" is not a volume name (letters, digits, _ . -, starting with a letter or digit)" 2
}
$container = "sage-$volume"

# The project: the git root of the current folder (a folder or file named .git), else the folder, with forward slashes.
if (-not $env:SAGE_PROJECT) {
    $cwd = (Get-Location).ProviderPath
    $project = $cwd
    $dir = $cwd
    while ($dir) {
        if (Test-Path -LiteralPath (Join-Path $dir '.git')) { $project = $dir; break }
        $dir = Split-Path -Parent $dir
    }
    $env:SAGE_PROJECT = ($project -replace '\\', '/').TrimEnd('/')
}

# ---- the image ----------------------------------------------------------------------------------------------------
function Get-Setting([string]$name) {
    $file = Join-Path $here 'scripts/image.env'
    if (Test-Path -LiteralPath $file) {
        foreach ($line in Get-Content -LiteralPath $file) { if ($line -match "^$name=(.*)$") { return $Matches[1].Trim() } }
    }
    return ''
}
# $why says why it builds. The labels are the published image's, so a local build passes the same version check.
function Build-Image([string]$why) {
    if (-not (Test-Path -LiteralPath (Join-Path $here 'Dockerfile'))) { Fail "cannot build the image $image (${why}): $here is not a Sage checkout" }
    $build = @('build', '-t', $image, '--build-arg', "SAGE_VERSION=$version",
        '--build-arg', "SAGE_SOURCE=$(Get-Setting 'SAGE_SOURCE')", '--build-arg', "SAGE_LICENSES=$(Get-Setting 'SAGE_LICENSES')")
    if ($env:SAGE_MODEL_ID) { $build += @('--build-arg', "SAGE_MODEL_ID=$($env:SAGE_MODEL_ID)") }
    if ($env:SAGE_MODEL_DTYPES) { $build += @('--build-arg', "SAGE_MODEL_DTYPES=$($env:SAGE_MODEL_DTYPES)") }
    if ($env:SAGE_BUILD_ARGS) { $build += ($env:SAGE_BUILD_ARGS -split '\s+' | Where-Object { $_ }) }
    Say "building the image $image from $here ($why; this takes a few minutes)"
    if ((Invoke-Quiet ($build + @($here))) -ne 0) { Fail "building the image $image failed (output above)" }
}
# Only a name whose first part is a registry host (has a dot or a port; not bare "localhost") is ever pulled:
# sage:latest and localhost/sage are local images.
$pullable = ($image -like '*/*') -and ($image -notlike 'localhost/*') -and (($image -split '/', 2)[0] -match '[.:]')
# The version an image must carry: its tag, when the tag is a version (ghcr.io/.../sage:0.1.0); none for :latest.
$lastPart = ($image -split '/')[-1]
$wantVersion = if (($lastPart -notlike '*@*') -and ($lastPart -match ':([0-9][^:]*\.[0-9][^:]*)$')) { $Matches[1] } else { '' }
function Get-ImageVersion {
    # {{json}} rather than {{index … "key"}}: Windows PowerShell mangles double quotes inside native arguments.
    $json = Get-Output @('image', 'inspect', '-f', '{{json .Config.Labels}}', $image)
    $labels = $null
    if ($json) { try { $labels = $json | ConvertFrom-Json } catch { $labels = $null } }
    if ($labels -and $labels.'org.opencontainers.image.version') { return $labels.'org.opencontainers.image.version' }
    return 'unknown'
}
function Test-Image { & $script:cli image inspect $script:image *> $null; return $LASTEXITCODE -eq 0 }
function Test-Usable { return (Test-Image) -and ((-not $wantVersion) -or ((Get-ImageVersion) -eq $wantVersion)) }

if (-not (Test-Usable)) {
    if (Test-Image) { Say "the local image $image is version $(Get-ImageVersion), not ${wantVersion}: replacing it" }
    if ($buildFlag -eq '1') { Build-Image 'SAGE_BUILD=1' }
    elseif (-not $pullable) { Build-Image 'a local image name, never pulled' }
    else {
        Say "pulling $image"
        if ((Invoke-Quiet @('pull', $image)) -eq 0) {
            if (Test-Usable) { Say "pulled $image" }
            else { Build-Image "the registry's image is version $(Get-ImageVersion), not $wantVersion" }
        }
        else {
            Say "could not pull $image (messages above); building it from this checkout instead"
            Build-Image 'the pull failed'
        }
    }
}
$want = (Get-Output @('image', 'inspect', '-f', '{{.Id}}', $image)) -replace '^sha256:', ''

# ---- the long-lived container -------------------------------------------------------------------------------------
# Hooks get transcript paths on the Windows side (C:\Users\...\.claude\...); the folder is mounted read-only at
# /mnt/claude and SAGE_PATH_MAP tells sage how to turn one into the other.
$claudeDir = if ($env:CLAUDE_CONFIG_DIR) { $env:CLAUDE_CONFIG_DIR } else { Join-Path $HOME '.claude' }
$claudeMount = '/mnt/claude'
if ((Test-Path -LiteralPath $claudeDir -PathType Container) -and -not $env:SAGE_PATH_MAP) {
    $env:SAGE_PATH_MAP = "$(($claudeDir -replace '\\', '/').TrimEnd('/'))=$claudeMount"
}

function New-SageContainer {
    $run = @('run', '-d', '--name', $container, '--network', 'none', '--pull', 'never',
        '-v', "${volume}:/var/lib/sage", '--label', "sage.volume=$volume")
    if (Test-Path -LiteralPath $claudeDir -PathType Container) { $run += @('-v', "${claudeDir}:${claudeMount}:ro") }
    & $cli @($run + @($image, '--daemon')) *> $null
    return $LASTEXITCODE -eq 0
}

# Racing windows are fine: the container name is unique, so only one `run` creates it, and `start` of a running
# container does nothing. entrypoint.sh also locks the volume itself.
$launched = $false
for ($attempt = 1; ; $attempt++) {
    $state = Get-Output @('container', 'inspect', '-f', '{{.State.Running}} {{.Image}}', $container)
    $has = if ($state) { ($state -split ' ', 2)[1] -replace '^sha256:', '' } else { '' }
    if ($state -like 'true *') {
        if ($has -ne $want) { Say "note: $container runs an older image; to upgrade, stop it ($cli stop $container) when no session uses it" }
        break
    }
    elseif ($state -like 'false *') {
        if ($launched) {
            Invoke-Quiet @('logs', '--tail', '30', $container) | Out-Null
            Fail "the container $container stopped right after starting (its log is above)"
        }
        if ($has -ne $want) { & $cli rm $container *> $null }
        else { & $cli start $container *> $null; if ($LASTEXITCODE -eq 0) { $launched = $true } }
    }
    elseif (New-SageContainer) { $launched = $true }
    if ($attempt -ge 50) { Fail "could not start the container $container (try: $cli logs $container)" }
    if ($attempt -ge 3) { Start-Sleep -Milliseconds 200 }
}

# The window that started the container waits here until the database is ready, so that a container that cannot
# start (a damaged volume, a failed migration) is reported with its log instead of a bare exec error.
if ($launched -and (Invoke-Quiet @('exec', $container, '/usr/local/bin/entrypoint.sh', '--wait')) -ne 0) {
    if ((Get-Output @('container', 'inspect', '-f', '{{.State.Running}}', $container)) -ne 'true') {
        Invoke-Quiet @('logs', '--tail', '30', $container) | Out-Null
        Fail "the container $container stopped right after starting (its log is above)"
    }
    Fail "the database in $container is not ready (messages above; the container's log: $cli logs $container)"
}

# ---- the session --------------------------------------------------------------------------------------------------
# Sage's settings pass through (every SAGE_* variable, plus CLAUDE_PROJECT_DIR and the names in SAGE_PASS_ENV), except
# this script's own and those the image fixes: the data directory, database, model and log file are container paths.
$skip = @('SAGE_CONTAINER_CLI', 'SAGE_IMAGE', 'SAGE_REGISTRY', 'SAGE_BUILD', 'SAGE_VOLUME', 'SAGE_BUILD_ARGS', 'SAGE_MODEL_ID', 'SAGE_MODEL_DTYPES',
    'SAGE_PASS_ENV', 'SAGE_HOME', 'SAGE_EMBED_MODEL', 'SAGE_LOG_FILE', 'SAGE_PG_BIN', 'SAGE_PG_USER', 'SAGE_DENO', 'DATABASE_URL')
$names = @(Get-ChildItem env: | Where-Object { $_.Name -like 'SAGE_*' } | ForEach-Object { $_.Name }) + @('CLAUDE_PROJECT_DIR')
if ($env:SAGE_PASS_ENV) { $names += ($env:SAGE_PASS_ENV -split '\s+' | Where-Object { $_ }) }
$exec = @('exec', '-i')
foreach ($name in $names) {
    if ($name -notmatch '^[A-Za-z_][A-Za-z0-9_]*$') { Fail "SAGE_PASS_ENV: `"$name`" is not a variable name" 2 }
    # `-e NAME` takes the value from this environment: no quoting problems.
    if (($skip -notcontains $name) -and (Test-Path "env:$name")) { $exec += @('-e', $name) }
}
# Where sage finds Claude Code's transcripts (`backfill`): the folder's mount point.
$exec += @('-e', "CLAUDE_CONFIG_DIR=$claudeMount")
# `view` writes its page to stdout (the container's files are not the host's), with commands that call this script.
$sageArgs = $args
if ($args.Count -gt 0 -and $args[0] -eq 'view') { $sageArgs += @('--output', '-', '--no-open', '--command', "& '$PSCommandPath'") }
$exec += @($container, '/usr/local/bin/entrypoint.sh', '--join') + $sageArgs
# The CLI's stdin and stdout are this script's own handles: PowerShell does not touch the JSON-RPC stream.
& $cli @exec
exit $LASTEXITCODE
