-- AlterEnum
-- This migration adds more than one value to an enum.
-- With PostgreSQL versions 11 and earlier, this is not possible
-- in a single migration. This can be worked around by creating
-- multiple migrations, each migration adding only one value to
-- the enum.


ALTER TYPE "ConnectionStatus" ADD VALUE 'DEGRADED';
ALTER TYPE "ConnectionStatus" ADD VALUE 'REVOKED';

-- AlterTable
ALTER TABLE "Connection" ADD COLUMN     "healthCheckDueAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
ADD COLUMN     "healthCheckLeaseUntil" TIMESTAMP(3),
ADD COLUMN     "lastHealthCheckAt" TIMESTAMP(3),
ADD COLUMN     "lastHealthCheckOutcome" TEXT,
ADD COLUMN     "lastHealthCheckStatusCode" INTEGER;

-- CreateIndex
CREATE INDEX "Connection_healthCheckDueAt_idx" ON "Connection"("healthCheckDueAt");
