-- AlterTable
ALTER TABLE "HostedConnectionSession" ADD COLUMN     "allowedIntegrationSlugs" TEXT[] DEFAULT ARRAY[]::TEXT[],
ALTER COLUMN "integrationSlug" DROP NOT NULL;
