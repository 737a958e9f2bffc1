-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "ApiKeyEnvironment" AS ENUM ('LIVE', 'TEST');

-- CreateEnum
CREATE TYPE "AuthType" AS ENUM ('OAUTH2', 'API_KEY', 'BASIC', 'NONE');

-- CreateEnum
CREATE TYPE "SessionStatus" AS ENUM ('PENDING', 'AUTHORIZING', 'CONNECTED', 'FAILED', 'CANCELLED', 'EXPIRED');

-- CreateEnum
CREATE TYPE "ConnectionStatus" AS ENUM ('ACTIVE', 'NEEDS_REAUTH');

-- CreateTable
CREATE TABLE "Organization" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Organization_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ApiKey" (
    "id" UUID NOT NULL,
    "organizationId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "environment" "ApiKeyEnvironment" NOT NULL,
    "prefix" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUsedAt" TIMESTAMP(3),
    "revokedAt" TIMESTAMP(3),

    CONSTRAINT "ApiKey_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Integration" (
    "slug" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "authType" "AuthType" NOT NULL,
    "definition" JSONB NOT NULL,
    "contentHash" TEXT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Integration_pkey" PRIMARY KEY ("slug")
);

-- CreateTable
CREATE TABLE "IntegrationConfig" (
    "id" UUID NOT NULL,
    "organizationId" UUID NOT NULL,
    "integrationSlug" TEXT NOT NULL,
    "oauthClientId" TEXT,
    "oauthClientSecretEnc" TEXT,
    "encryptionKeyId" TEXT,
    "scopes" TEXT[],
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "IntegrationConfig_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "HostedConnectionSession" (
    "id" UUID NOT NULL,
    "organizationId" UUID NOT NULL,
    "integrationSlug" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "endUserId" TEXT NOT NULL,
    "endUserName" TEXT,
    "endUserEmail" TEXT,
    "suggestedConnectionName" TEXT,
    "status" "SessionStatus" NOT NULL DEFAULT 'PENDING',
    "errorCode" TEXT,
    "errorMessage" TEXT,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "completedAt" TIMESTAMP(3),
    "connectionId" UUID,
    "oauthStateHash" TEXT,
    "oauthFlowEnc" TEXT,
    "oauthFlowKeyId" TEXT,
    "connectionName" TEXT,

    CONSTRAINT "HostedConnectionSession_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Connection" (
    "id" UUID NOT NULL,
    "organizationId" UUID NOT NULL,
    "integrationSlug" TEXT NOT NULL,
    "endUserId" TEXT NOT NULL,
    "endUserName" TEXT,
    "endUserEmail" TEXT,
    "name" TEXT NOT NULL,
    "authType" "AuthType" NOT NULL,
    "status" "ConnectionStatus" NOT NULL DEFAULT 'ACTIVE',
    "statusReason" TEXT,
    "credentialsEnc" TEXT NOT NULL,
    "encryptionKeyId" TEXT NOT NULL,
    "tokenExpiresAt" TIMESTAMP(3),
    "scopes" TEXT[],
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "lastRefreshedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Connection_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "ApiKey_hash_key" ON "ApiKey"("hash");

-- CreateIndex
CREATE INDEX "ApiKey_organizationId_idx" ON "ApiKey"("organizationId");

-- CreateIndex
CREATE UNIQUE INDEX "IntegrationConfig_organizationId_integrationSlug_key" ON "IntegrationConfig"("organizationId", "integrationSlug");

-- CreateIndex
CREATE UNIQUE INDEX "HostedConnectionSession_tokenHash_key" ON "HostedConnectionSession"("tokenHash");

-- CreateIndex
CREATE UNIQUE INDEX "HostedConnectionSession_oauthStateHash_key" ON "HostedConnectionSession"("oauthStateHash");

-- CreateIndex
CREATE INDEX "HostedConnectionSession_organizationId_status_idx" ON "HostedConnectionSession"("organizationId", "status");

-- CreateIndex
CREATE INDEX "HostedConnectionSession_status_expiresAt_idx" ON "HostedConnectionSession"("status", "expiresAt");

-- CreateIndex
CREATE INDEX "Connection_organizationId_endUserId_idx" ON "Connection"("organizationId", "endUserId");

-- CreateIndex
CREATE INDEX "Connection_organizationId_integrationSlug_idx" ON "Connection"("organizationId", "integrationSlug");

-- CreateIndex
CREATE INDEX "Connection_organizationId_createdAt_id_idx" ON "Connection"("organizationId", "createdAt", "id");

-- CreateIndex
CREATE INDEX "Connection_status_tokenExpiresAt_idx" ON "Connection"("status", "tokenExpiresAt");

-- AddForeignKey
ALTER TABLE "ApiKey" ADD CONSTRAINT "ApiKey_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "IntegrationConfig" ADD CONSTRAINT "IntegrationConfig_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "IntegrationConfig" ADD CONSTRAINT "IntegrationConfig_integrationSlug_fkey" FOREIGN KEY ("integrationSlug") REFERENCES "Integration"("slug") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "HostedConnectionSession" ADD CONSTRAINT "HostedConnectionSession_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "HostedConnectionSession" ADD CONSTRAINT "HostedConnectionSession_integrationSlug_fkey" FOREIGN KEY ("integrationSlug") REFERENCES "Integration"("slug") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "HostedConnectionSession" ADD CONSTRAINT "HostedConnectionSession_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "Connection"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Connection" ADD CONSTRAINT "Connection_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Connection" ADD CONSTRAINT "Connection_integrationSlug_fkey" FOREIGN KEY ("integrationSlug") REFERENCES "Integration"("slug") ON DELETE RESTRICT ON UPDATE CASCADE;
