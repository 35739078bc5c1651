# Reference for a random-slopes fit with more than 3000 rows whose optimum
# has a singular unstructured G (lme4's isSingular), REML and ML.
# Writes tests/data/singular_slopes/{slopes.csv,lme4.json}.
# Run from the repository root: Rscript tests/data/r/make_singular_slopes.R
suppressMessages({library(lme4); library(jsonlite)})
out <- "tests/data/singular_slopes"
dir.create(out, showWarnings = FALSE, recursive = TRUE)
ctrl <- lmerControl(optimizer = "bobyqa",
                    optCtrl = list(rhoend = 1e-12, maxfun = 1e5),
                    check.conv.singular = "ignore")
simulate <- function(seed) {
  set.seed(seed)
  q <- 12; m <- 300
  g <- rep(sprintf("g%02d", 1:q), each = m)
  x <- round(runif(q * m, -1, 1), 4)
  b0 <- rnorm(q, 0, 1)
  b1 <- 0.4 * b0            # correlation 1: a singular 2 x 2 covariance
  gi <- rep(1:q, each = m)
  y <- round(2 + 0.5 * x + b0[gi] + b1[gi] * x + rnorm(q * m, 0, 1), 4)
  data.frame(y = y, x = x, g = g)
}
summ <- function(fit) {
  vc <- as.data.frame(VarCorr(fit))
  re <- ranef(fit, condVar = TRUE)$g
  pv <- attr(re, "postVar")
  list(loglik = as.numeric(logLik(fit)),
       singular = isSingular(fit, tol = 1e-4),
       theta = unname(getME(fit, "theta")),
       var_intercept = vc$vcov[1], var_slope = vc$vcov[2],
       cov = vc$vcov[3], cor = vc$sdcor[3], sigma2 = sigma(fit)^2,
       beta = unname(fixef(fit)),
       ranef_levels = rownames(re)[1:3],
       ranef_intercept = re[1:3, 1], ranef_slope = re[1:3, 2],
       condvar_11 = pv[1, 1, 1:3], condvar_21 = pv[2, 1, 1:3],
       condvar_22 = pv[2, 2, 1:3])
}
for (seed in 1:50) {
  d <- simulate(seed)
  fr <- lmer(y ~ x + (1 + x | g), d, REML = TRUE, control = ctrl)
  fm <- lmer(y ~ x + (1 + x | g), d, REML = FALSE, control = ctrl)
  if (isSingular(fr, tol = 1e-4) && isSingular(fm, tol = 1e-4)) break
}
write.csv(d, file.path(out, "slopes.csv"), row.names = FALSE, quote = FALSE)
res <- list(seed = seed, n = nrow(d), formula = "y ~ x + (1 + x | g)",
            optimizer = "bobyqa rhoend 1e-12",
            reml = summ(fr), ml = summ(fm))
writeLines(toJSON(res, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           file.path(out, "lme4.json"))
print(res$reml[1:9]); print(res$ml[1:9]); cat("seed", seed, "\n")
