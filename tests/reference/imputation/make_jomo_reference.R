# Reference values for tests/multilevel/test_ml_imputation.py (run: Rscript make_jomo_reference.R)
# A two-level data set (40 clusters x 12 rows, p = 2 continuous outcomes, one complete
# covariate x), about 25% of each outcome missing at random given x; jomo's posterior means
# of beta, covu and omega from one long chain (jomo1rancon.MCMCchain), and the pooled
# estimate of lmer(y1 ~ x + (1 | clus)) over 50 jomo imputations (mitml::testEstimates).
# jomo's priors (inverse Wishart, df = p, identity scale) act on the scale of the data;
# lerendtransformeren.impute puts them on the standardised scale. To compare like with
# like the outcomes are standardised by their observed mean and SD before jomo sees them
# and the posterior means transformed back.
if (dir.exists("tests/reference/imputation")) setwd("tests/reference/imputation")  # run from the repository root or here
suppressPackageStartupMessages({library(jomo); library(mitml); library(lme4)})
set.seed(20260415)
J <- 40; nj <- 12; n <- J * nj
clus <- rep(seq_len(J), each = nj)
x <- rnorm(n)
u <- MASS::mvrnorm(J, c(0, 0), matrix(c(0.5, 0.25, 0.25, 0.4), 2))
e <- MASS::mvrnorm(n, c(0, 0), matrix(c(1, 0.4, 0.4, 0.8), 2))
y1 <- 1 + 0.5 * x + u[clus, 1] + e[, 1]
y2 <- -0.5 + 0.3 * x + u[clus, 2] + e[, 2]
p1 <- plogis(-1.3 + 0.6 * x); p2 <- plogis(-1.3 - 0.6 * x)
y1[runif(n) < p1] <- NA; y2[runif(n) < p2] <- NA
d <- data.frame(clus = clus, x = x, y1 = y1, y2 = y2)
write.csv(d, "jomo_data.csv", row.names = FALSE, na = "")
m <- c(mean(y1, na.rm = TRUE), mean(y2, na.rm = TRUE)); s <- c(sd(y1, na.rm = TRUE), sd(y2, na.rm = TRUE))
Y <- data.frame(y1 = (y1 - m[1]) / s[1], y2 = (y2 - m[2]) / s[2])
X <- data.frame(const = 1, x = x)
Z <- data.frame(const = rep(1, n))
chain <- jomo1rancon.MCMCchain(Y, X, Z, clus = clus, nburn = 50000, output = 0)
keep <- 5001:50000
beta <- apply(chain$collectbeta[, , keep], c(1, 2), mean)
covu <- apply(chain$collectcovu[, , keep], c(1, 2), mean)
omega <- apply(chain$collectomega[, , keep], c(1, 2), mean)
beta_raw <- sweep(beta, 2, s, "*"); beta_raw[1, ] <- beta_raw[1, ] + m
covu_raw <- covu * outer(s, s); omega_raw <- omega * outer(s, s)
imp <- jomo1rancon(Y, X, Z, clus = clus, nburn = 2000, nbetween = 200, nimp = 50, output = 0)
imp$y1 <- imp$y1 * s[1] + m[1]; imp$y2 <- imp$y2 * s[2] + m[2]
ml <- jomo2mitml.list(imp)
fits <- with(ml, lmer(y1 ~ x + (1 | clus)))
est <- testEstimates(fits)$estimates
out <- rbind(
  data.frame(quantity = "beta", row = rep(c("Intercept", "x"), 2), col = rep(c("y1", "y2"), each = 2),
             value = as.vector(beta_raw)),
  data.frame(quantity = "covu", row = rep(c("y1", "y2"), 2), col = rep(c("y1", "y2"), each = 2),
             value = as.vector(covu_raw)),
  data.frame(quantity = "omega", row = rep(c("y1", "y2"), 2), col = rep(c("y1", "y2"), each = 2),
             value = as.vector(omega_raw)),
  data.frame(quantity = "pooled_estimate", row = rownames(est), col = "y1", value = est[, "Estimate"]),
  data.frame(quantity = "pooled_se", row = rownames(est), col = "y1", value = est[, "Std.Error"]))
write.csv(out, "jomo_reference.csv", row.names = FALSE)
print(out)
cat(sprintf("jomo %s, mitml %s, lme4 %s\n", packageVersion("jomo"), packageVersion("mitml"), packageVersion("lme4")))
